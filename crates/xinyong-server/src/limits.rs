//! Per-account rate limits (429 with `Retry-After`-style message), a token bucket per account; and the
//! sign-in throttle per client address ([`LoginThrottle`]), which stops one address from trying
//! passwords across many accounts (each account's own lockout counts only its own failures).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;

use chrono::Duration;

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;
use xinyong_store::Timestamp;

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

/// Addresses tracked at most; past it, the one whose last failure is oldest is forgotten first.
const MAX_ADDRESSES: usize = 100_000;

/// Failed sign-ins per client address within a sliding window: at `max` failures the address gets no
/// further password check until its oldest failure leaves the window. Kept in this server's memory:
/// behind a load balancer with several servers an address gets up to `max` on each.
pub struct LoginThrottle {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, VecDeque<Timestamp>>>,
}

impl LoginThrottle {
    pub fn new(max: u32, window_minutes: u32) -> LoginThrottle {
        LoginThrottle {
            max: max.max(1) as usize,
            window: Duration::minutes(i64::from(window_minutes.max(1))),
            failures: Mutex::default(),
        }
    }

    /// The address a throttle counts: an IPv6 client by its /64 (one subscriber's whole network).
    pub fn key(addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(bits.into())
                }
            },
            v4 => v4,
        }
    }

    /// When the address may try again, if it is blocked now.
    pub fn blocked_until(&self, addr: IpAddr, now: Timestamp) -> Option<Timestamp> {
        let mut map = self.failures.lock().ok()?;
        let times = map.get_mut(&Self::key(addr))?;
        while times.front().is_some_and(|t| *t + self.window <= now) {
            times.pop_front();
        }
        if times.len() < self.max {
            return None;
        }
        times.front().map(|t| *t + self.window)
    }

    /// Counts a failed sign-in (a wrong password, an unknown or locked account) from the address.
    pub fn failed(&self, addr: IpAddr, now: Timestamp) {
        let Ok(mut map) = self.failures.lock() else { return };
        let key = Self::key(addr);
        if !map.contains_key(&key) && map.len() >= MAX_ADDRESSES {
            let window = self.window;
            map.retain(|_, times| times.back().is_some_and(|t| *t + window > now));
            if map.len() >= MAX_ADDRESSES
                && let Some(oldest) = map.iter().min_by_key(|(_, times)| times.back().copied()).map(|(k, _)| *k)
            {
                map.remove(&oldest);
            }
        }
        let times = map.entry(key).or_default();
        while times.front().is_some_and(|t| *t + self.window <= now) {
            times.pop_front();
        }
        times.push_back(now);
        // Only the newest `max` matter for the block.
        while times.len() > self.max {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(minute: u32) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-05-06T10:{minute:02}:00+08:00")).unwrap()
    }

    #[test]
    fn an_address_is_blocked_at_the_limit_until_its_oldest_failure_leaves_the_window() {
        let throttle = LoginThrottle::new(3, 15);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        for minute in [0, 1, 2] {
            assert_eq!(throttle.blocked_until(a, at(minute)), None);
            throttle.failed(a, at(minute));
        }
        assert_eq!(throttle.blocked_until(a, at(3)), Some(at(15)), "three failures block");
        assert_eq!(throttle.blocked_until(b, at(3)), None, "another address is not blocked");
        assert_eq!(throttle.blocked_until(a, at(15)), None, "the failure of 10:00 left the window");
        throttle.failed(a, at(15));
        assert_eq!(throttle.blocked_until(a, at(15)), Some(at(16)), "10:01, 10:02 and 10:15 count");
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_network_and_a_mapped_ipv4_as_ipv4() {
        let throttle = LoginThrottle::new(2, 15);
        throttle.failed("2001:db8:1:2::1".parse().unwrap(), at(0));
        throttle.failed("2001:db8:1:2:ffff::9".parse().unwrap(), at(1));
        assert!(throttle.blocked_until("2001:db8:1:2::abcd".parse().unwrap(), at(2)).is_some());
        assert!(throttle.blocked_until("2001:db8:1:3::1".parse().unwrap(), at(2)).is_none());
        throttle.failed("::ffff:198.51.100.1".parse().unwrap(), at(0));
        throttle.failed("198.51.100.1".parse().unwrap(), at(1));
        assert!(throttle.blocked_until("198.51.100.1".parse().unwrap(), at(2)).is_some());
    }

    #[test]
    fn the_table_forgets_stale_addresses_first_when_full() {
        let throttle = LoginThrottle::new(1, 15);
        let addr = |n: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        for n in 0..MAX_ADDRESSES as u32 {
            throttle.failed(addr(n), at(0));
        }
        throttle.failed(addr(u32::MAX >> 8), at(20));
        assert!(throttle.blocked_until(addr(u32::MAX >> 8), at(20)).is_some(), "the new address is tracked");
        assert_eq!(throttle.failures.lock().unwrap().len(), 1, "the stale ones were dropped");
    }
}
