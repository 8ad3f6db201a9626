use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default()
}

/// Valid USCCs published with python-stdnum's tests (tests/test_cn_uscc.doctest), a sample of each shape.
const STDNUM_VALID_USCC: &[&str] = &[
    "121200004013590816",
    "91110000600037341L",
    "91110000710926094P",
    "91120224064012553U",
    "911522010783710635",
    "91152201078371135X",
    "9115220107837757XE",
    "9115220107837941X1",
    "9115220107839138X8",
    "91310000631696382C",
    "91310000797046224D",
    "91310112087994932F",
    "913101127033980359",
    "913101145852519045",
    "913101153325803473",
    "91310115MA1K3BTP2B",
    "91310116052958608G",
    "913101203509708598",
    "9131012056010553X5",
    "91320214745555318W",
    "91340600MA2PBM9HXD",
    "91340603MA2UJXXCXF",
    "9144030071526726XG",
    "9144060573144633XL",
    "91620105L015101280",
    "91620105MA71T4YW8Q",
    "91620105MA73NBBLXE",
    "92340602MA2PBMEM24",
    "92340602MA2PEL8AXA",
    "92340603MA2PBN17X5",
    "92340621MA2PBKRXXG",
    "92340621MA2UK3PJXE",
];

#[test]
fn python_stdnum_valid_usccs_are_valid() {
    for code in STDNUM_VALID_USCC {
        assert_eq!(Uscc::parse(code).map(|u| u.as_str().to_owned()), Ok((*code).to_owned()), "{code}");
        assert_eq!(classify(code, today()).kind, IdKind::Uscc, "{code}");
    }
}

#[test]
fn a_uscc_with_a_letter_first_is_valid() {
    let u = Uscc::parse("G1610000713522976L");
    assert!(u.is_ok(), "{u:?}");
    let c = classify("G1610000713522976L", today());
    assert_eq!(c.kind, IdKind::Uscc);
    assert!(c.result.is_ok());
}

#[test]
fn python_stdnum_invalid_usccs_are_rejected_with_reasons() {
    assert_eq!(Uscc::parse("12345"), Err(IdError::BadLength));
    assert_eq!(Uscc::parse("9111000060003IOZSV"), Err(IdError::BadChar));
    assert_eq!(Uscc::parse("91110000600037341N"), Err(IdError::BadCheckDigit));
    // Letter first is allowed by us, so this one fails only on its check digit.
    assert_eq!(Uscc::parse("A1110000600037341L"), Err(IdError::BadCheckDigit));
}

#[test]
fn a_uscc_whose_embedded_org_code_fails_is_rejected() {
    // Change the embedded organisation code's check character, then repair the USCC's own check.
    let body = "9131000063169638";
    let bad_org_check = if body.ends_with('8') { '9' } else { '8' };
    let first17 = format!("{body}{bad_org_check}");
    let check = uscc::check_char(&first17).unwrap_or('0');
    let code = format!("{first17}{check}");
    assert_eq!(Uscc::parse(&code), Err(IdError::BadOrgCode));
    assert_eq!(IdError::BadOrgCode.code(), "bad_check_digit");
}

#[test]
fn uscc_parts_are_exposed() {
    let u = Uscc::parse("92340602MA2PBMEM24").unwrap_or_else(|e| panic!("{e}"));
    assert!(u.is_individual_business());
    assert_eq!(u.region_code(), "340602");
    assert_eq!(u.org_code(), "MA2PBMEM2");
    assert_eq!(u.kind_label(), "个体工商户");
}

#[test]
fn python_stdnum_resident_ids_are_valid() {
    for id in ["360426199101010071", "44011320141005001X", "412723199010050012", "110102199101010078"] {
        assert!(ResidentId::parse(id, today()).is_ok(), "{id}");
        assert_eq!(classify(id, today()).kind, IdKind::ResidentId);
    }
    assert!(ResidentId::parse("44011320141005001x", today()).is_ok());
}

#[test]
fn a_county_code_newer_than_the_birth_year_is_not_rejected() {
    // python-stdnum rejects these two (county not registered / deregistered at birth); we must not.
    for id in ["110111198012010078", "110201199312010077", "120110198012010073"] {
        assert!(ResidentId::parse(id, today()).is_ok(), "{id}");
    }
}

#[test]
fn python_stdnum_invalid_resident_ids_are_rejected_with_reasons() {
    assert_eq!(ResidentId::parse("T60426199101010078", today()), Err(IdError::BadChar));
    assert_eq!(ResidentId::parse("360426199113010079", today()), Err(IdError::BadDate));
    assert_eq!(ResidentId::parse("36042619910102009X", today()), Err(IdError::BadCheckDigit));
    assert_eq!(ResidentId::parse("990426199112010074", today()), Err(IdError::BadRegion));
}

#[test]
fn a_birth_date_in_the_future_is_rejected() {
    let first17 = "31010120270101001";
    let id = format!("{first17}{}", resident_id::check_char(first17).unwrap_or('0'));
    assert_eq!(ResidentId::parse(&id, today()), Err(IdError::BadDate));
}

#[test]
fn a_february_30th_birth_date_is_rejected() {
    let first17 = "31010119900230001";
    let id = format!("{first17}{}", resident_id::check_char(first17).unwrap_or('0'));
    assert_eq!(ResidentId::parse(&id, today()), Err(IdError::BadDate));
}

#[test]
fn a_fifteen_digit_id_converts_to_eighteen() {
    // 15-digit 310101 900101 123 → 310101 19900101 123 + check.
    let id = ResidentId::parse("310101900101123", today()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&id.as_str()[..17], "31010119900101123");
    assert_eq!(id.as_str().len(), 18);
    assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1990, 1, 1));
    assert_eq!(classify("310101900101123", today()).kind, IdKind::ResidentId);
}

#[test]
fn resident_ids_are_masked_in_debug_and_display() {
    let id = ResidentId::parse("360426199101010071", today()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(id.masked(), "360***********0071");
    assert_eq!(format!("{id:?}"), "ResidentId(360***********0071)");
    assert_eq!(format!("{id}"), "360***********0071");
    assert!(!format!("{:?}", Identifier::ResidentId(id)).contains("19910101"));
}

#[test]
fn org_codes_check_their_last_character() {
    assert!(OrgCode::parse("60003734-1").is_ok());
    assert!(OrgCode::parse("MA1K3BTP2").is_ok());
    assert_eq!(OrgCode::parse("600037342"), Err(IdError::BadCheckDigit));
    assert_eq!(OrgCode::parse("6000-3734"), Err(IdError::BadLength));
    assert_eq!(OrgCode::parse("60003734?"), Err(IdError::BadChar));
    assert_eq!(classify("600037341", today()).kind, IdKind::OrgCode);
}

#[test]
fn full_width_input_is_normalised_before_checking() {
    assert!(Uscc::parse("９１１１００００６０００３７３４１Ｌ").is_ok());
    assert!(ResidentId::parse("３６０４２６１９９１０１０１００７１", today()).is_ok());
}

#[test]
fn spreadsheet_mangled_numbers_are_named_as_such() {
    let c = classify("3.10101E+17", today());
    assert_eq!(c.result, Err(IdError::MangledNumber));
    assert_eq!(IdError::MangledNumber.code(), "mangled_number");
}

#[test]
fn an_eighteen_digit_uscc_with_a_province_like_prefix_is_classified_as_uscc() {
    // 12… is both 事业单位 and Tianjin's province code; the date part decides.
    assert_eq!(classify("121200004013590816", today()).kind, IdKind::Uscc);
}

#[test]
fn a_resident_id_with_an_unknown_province_is_classified_as_a_resident_id() {
    let c = classify("990426199112010074", today());
    assert_eq!((c.kind, c.result), (IdKind::ResidentId, Err(IdError::BadRegion)));
}

#[test]
fn other_lengths_are_unknown_bad_length() {
    let c = classify("1234567", today());
    assert_eq!((c.kind, c.result), (IdKind::Unknown, Err(IdError::BadLength)));
}

fn uscc_strategy() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = uscc::ALPHABET.chars().collect();
    (proptest::collection::vec(proptest::sample::select(alphabet.clone()), 2), "[0-9]{6}", "[0-9A-HJ-NP-RTUWXY]{8}")
        .prop_map(|(head, region, body)| {
            let mut values = [0u32; 8];
            for (v, c) in values.iter_mut().zip(body.chars()) {
                *v = c.to_digit(36).unwrap_or(0);
            }
            let org_check = org_code::check_char(&values);
            let first17: String = head.iter().collect::<String>() + &region + &body + &org_check.to_string();
            let check = uscc::check_char(&first17).unwrap_or('0');
            format!("{first17}{check}")
        })
        .prop_filter("embedded org check must be in the USCC alphabet", |s| Uscc::parse(s).is_ok())
}

/// The USCC rules read character by character, as `Uscc::parse` read them before it went by bytes.
fn uscc_by_chars(input: &str) -> Result<String, IdError> {
    let n = normalize(input);
    if n.is_empty() {
        return Err(IdError::Empty);
    }
    if is_mangled_number(&n) {
        return Err(IdError::MangledNumber);
    }
    if n.chars().count() != 18 {
        return Err(IdError::BadLength);
    }
    if !n.chars().all(|c| uscc::ALPHABET.contains(c)) {
        return Err(IdError::BadChar);
    }
    // GB 32100-2015's weights, and the check character's place in the alphabet.
    let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let sum: usize = n.chars().zip(weights).map(|(c, w)| uscc::ALPHABET.find(c).unwrap_or(0) * w).sum();
    let expected = uscc::ALPHABET.chars().nth((31 - sum % 31) % 31);
    if n.chars().nth(17) != expected {
        return Err(IdError::BadCheckDigit);
    }
    let body: Vec<u32> =
        n[8..16].chars().map(|c| c.to_digit(36).ok_or(IdError::BadOrgCode)).collect::<Result<_, _>>()?;
    let body: [u32; 8] = body.try_into().map_err(|_| IdError::BadOrgCode)?;
    if n.chars().nth(16) != Some(org_code::check_char(&body)) {
        return Err(IdError::BadOrgCode);
    }
    Ok(n)
}

proptest! {
    /// Valid codes, codes with one character changed, shortened or lengthened, full-width or spaced,
    /// and any text: the byte-wise parser answers as the character rules do.
    #[test]
    fn a_uscc_parses_as_the_character_rules_read_it(
        code in uscc_strategy(), pos in 0usize..18, with in "[0-9A-Z]|[ａ-ｚ０-９Ａ-Ｚ 　-]|\\PC", how in 0u8..5,
        any in "\\PC{0,24}|[0-9A-Z]{16,20}"
    ) {
        let mut chars: Vec<char> = code.chars().collect();
        let candidate: String = match how {
            0 => code.clone(),
            1 => { chars.splice(pos..=pos, with.chars()); chars.into_iter().collect() }
            2 => { chars.insert(pos, with.chars().next().unwrap_or('0')); chars.into_iter().collect() }
            3 => { chars.remove(pos); chars.into_iter().collect() }
            _ => any,
        };
        prop_assert_eq!(Uscc::parse(&candidate).map(Uscc::into_string), uscc_by_chars(&candidate), "{:?}", candidate);
    }

    #[test]
    fn classify_never_panics(s in "\\PC{0,40}") {
        let _ = classify(&s, today());
    }

    #[test]
    fn every_generated_uscc_round_trips(code in uscc_strategy()) {
        let u = Uscc::parse(&code);
        prop_assert!(u.is_ok());
        prop_assert_eq!(classify(&code, today()).result.is_ok(), true);
    }

    #[test]
    fn any_single_character_change_to_a_uscc_is_caught(code in uscc_strategy(), pos in 0usize..18, delta in 1usize..31) {
        let alphabet: Vec<char> = uscc::ALPHABET.chars().collect();
        let mut chars: Vec<char> = code.chars().collect();
        let idx = alphabet.iter().position(|c| *c == chars[pos]).unwrap_or(0);
        chars[pos] = alphabet[(idx + delta) % 31];
        let changed: String = chars.into_iter().collect();
        prop_assert!(Uscc::parse(&changed).is_err());
    }

    #[test]
    fn generated_resident_ids_are_valid_and_a_changed_digit_is_caught(
        region in "31[0-9]{4}", y in 1930i32..2020, m in 1u32..13, d in 1u32..29, seq in "[0-9]{3}", pos in 0usize..17
    ) {
        let first17 = format!("{region}{y:04}{m:02}{d:02}{seq}");
        let id = format!("{first17}{}", resident_id::check_char(&first17).unwrap_or('0'));
        prop_assert!(ResidentId::parse(&id, today()).is_ok());
        let mut bytes = id.into_bytes();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + 1) % 10;
        let changed = String::from_utf8(bytes).unwrap_or_default();
        prop_assert!(ResidentId::parse(&changed, today()).is_err());
    }
}
