//! `xinyong validate-id`.

use super::run_with_stdin;

fn lines(input: &str) -> Vec<String> {
    let out = run_with_stdin(&["validate-id"], input);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn each_input_line_gets_one_tab_separated_verdict() {
    let input = "G1610000713522976L\n91110000600037341L\n91110000600037341N\n360426199101010071\n\
                 990426199112010074\n360426199113010079\n600037341\n3.10101E+17\n12345\n310101900101123\n";
    let got = lines(input);
    assert_eq!(
        got,
        [
            "G1610000713522976L\tuscc\tvalid\tok",
            "91110000600037341L\tuscc\tvalid\tok",
            "91110000600037341N\tuscc\tinvalid\tbad_check_digit",
            "360426199101010071\tresident_id\tvalid\tok",
            "990426199112010074\tresident_id\tinvalid\tbad_region",
            "360426199113010079\tresident_id\tinvalid\tbad_date",
            "600037341\torg_code\tvalid\tok",
            "3.10101E+17\tunknown\tinvalid\tmangled_number",
            "12345\tunknown\tinvalid\tbad_length",
            "310101900101123\tresident_id\tvalid\tok",
        ]
    );
}

#[test]
fn crlf_input_and_full_width_characters_are_handled() {
    let got = lines("９１１１００００６０００３７３４１Ｌ\r\n");
    assert_eq!(got, ["９１１１００００６０００３７３４１Ｌ\tuscc\tvalid\tok"]);
}

#[test]
fn json_output_is_one_document() {
    let out = run_with_stdin(&["--json", "validate-id"], "G1610000713522976L\nbad\n");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["valid"], true);
    assert_eq!(v["results"][1]["reason"], "bad_length");
}
