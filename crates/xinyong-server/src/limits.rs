//! Per-account rate limits (429 with `Retry-After`-style message), a token bucket per account; and the
//! sign-in throttle per client address ([`LoginThrottle`]), which stops one address from trying
//! passwords across many accounts (each account's own lockout counts only its own failures).

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;

use chrono::Duration;

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;
use xinyong_store::session::SessionStore;
use xinyong_store::{Result, Timestamp};

pub struct RateLimits {
    limiter: RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock>,
}

impl RateLimits {
    pub fn new(per_second: u32, burst: u32) -> RateLimits {
        let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        RateLimits { limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)) }
    }

    pub fn check(&self, account: i64) -> Result<(), ApiError> {
        self.limiter.check_key(&account).map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "rate limit for this account reached; retry shortly",
            )
        })
    }
}

/// Failed sign-ins per client address within a sliding window: at `max` failures the address gets no
/// further password check until its oldest failure leaves the window. Counted in the store, so that
/// servers behind one load balancer count together and a restart forgets nothing.
pub struct LoginThrottle {
    max: u32,
    window: Duration,
}

impl LoginThrottle {
    pub fn new(max: u32, window_minutes: u32) -> LoginThrottle {
        LoginThrottle { max: max.max(1), window: Duration::minutes(i64::from(window_minutes.max(1))) }
    }

    /// The address as the throttle counts it: an IPv4 address as such (also when mapped into IPv6), an
    /// IPv6 client by its /64 (one subscriber's whole network).
    pub fn key(addr: IpAddr) -> String {
        match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let network = Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1));
                    format!("{network}/64")
                }
            },
            IpAddr::V4(v4) => v4.to_string(),
        }
    }

    /// When the address may try again, if it is blocked now.
    pub fn blocked_until(&self, store: &dyn SessionStore, addr: IpAddr, now: Timestamp) -> Result<Option<Timestamp>> {
        let failures = store.address_failures(&Self::key(addr), now - self.window, self.max)?;
        Ok(match failures.first() {
            Some(oldest) if failures.len() >= self.max as usize => Some(*oldest + self.window),
            _ => None,
        })
    }

    /// Counts a failed sign-in (a wrong password, an unknown or locked account) from the address.
    pub fn failed(&self, store: &dyn SessionStore, addr: IpAddr, now: Timestamp) -> Result<()> {
        store.address_failed(&Self::key(addr), now, now - self.window)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use xinyong_store_sqlite::SqliteStore;

    fn at(minute: u32) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-05-06T10:{minute:02}:00+08:00")).unwrap()
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::create(&dir.path().join("data"), false).unwrap();
        (dir, store)
    }

    #[test]
    fn an_address_is_blocked_at_the_limit_until_its_oldest_failure_leaves_the_window() {
        let (_dir, store) = store();
        let throttle = LoginThrottle::new(3, 15);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        for minute in [0, 1, 2] {
            assert_eq!(throttle.blocked_until(&store, a, at(minute)).unwrap(), None);
            throttle.failed(&store, a, at(minute)).unwrap();
        }
        assert_eq!(throttle.blocked_until(&store, a, at(3)).unwrap(), Some(at(15)), "three failures block");
        assert_eq!(throttle.blocked_until(&store, b, at(3)).unwrap(), None, "another address is not blocked");
        assert_eq!(throttle.blocked_until(&store, a, at(15)).unwrap(), None, "the failure of 10:00 left the window");
        throttle.failed(&store, a, at(15)).unwrap();
        assert_eq!(throttle.blocked_until(&store, a, at(15)).unwrap(), Some(at(16)), "10:01, 10:02 and 10:15 count");
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_network_and_a_mapped_ipv4_as_ipv4() {
        let key = |a: &str| LoginThrottle::key(a.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(key("::ffff:198.51.100.1"), "198.51.100.1");
        assert_eq!(key("198.51.100.1"), "198.51.100.1");

        let (_dir, store) = store();
        let throttle = LoginThrottle::new(2, 15);
        throttle.failed(&store, "2001:db8:1:2::1".parse().unwrap(), at(0)).unwrap();
        throttle.failed(&store, "2001:db8:1:2:ffff::9".parse().unwrap(), at(1)).unwrap();
        assert!(throttle.blocked_until(&store, "2001:db8:1:2::abcd".parse().unwrap(), at(2)).unwrap().is_some());
        assert!(throttle.blocked_until(&store, "2001:db8:1:3::1".parse().unwrap(), at(2)).unwrap().is_none());
    }
}
