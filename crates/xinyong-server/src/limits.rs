//! Per-account rate limits (429 with `Retry-After`-style message), a token bucket per account.

use std::num::NonZeroU32;

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;

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
