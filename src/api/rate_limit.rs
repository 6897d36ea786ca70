//! Per-client rate limit: a token bucket per client address.
//!
//! Each client may burst up to `per_minute` requests, then gets one more every
//! `60 / per_minute` seconds. IPv6 clients are keyed by their /64, since one host usually owns
//! a whole /64 and could otherwise rotate addresses. The table is pruned of idle (full)
//! buckets when it grows, so a flood of addresses cannot grow it without bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Prune idle buckets once the table holds this many clients.
const PRUNE_AT: usize = 4096;

pub struct RateLimiter {
    /// Bucket size (burst) and refill per minute; 0 disables the limiter.
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `client`; `Err(wait)` says how long until the next one.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, b| refilled(*b, now, per_second, capacity) < capacity);
        }
        let bucket = buckets.entry(key(client)).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        bucket.tokens = refilled(*bucket, now, per_second, capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

fn refilled(b: Bucket, now: Instant, per_second: f64, capacity: f64) -> f64 {
    let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
    (b.tokens + elapsed * per_second).min(capacity)
}

/// IPv4 addresses as they are; IPv6 addresses by their /64 (IPv4-mapped ones as IPv4).
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn burst_then_refill_at_the_configured_rate() {
        let rl = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.check(ip("127.0.0.1"), t0).is_ok());
        }
        let wait = rl.check(ip("127.0.0.1"), t0).unwrap_err();
        assert_eq!(wait.as_secs_f64().round(), 20.0);
        // Another client has its own bucket.
        assert!(rl.check(ip("127.0.0.2"), t0).is_ok());
        // 20 s later one token is back, not more.
        let t1 = t0 + Duration::from_secs(20);
        assert!(rl.check(ip("127.0.0.1"), t1).is_ok());
        assert!(rl.check(ip("127.0.0.1"), t1).is_err());
    }

    #[test]
    fn zero_disables_the_limit() {
        let rl = RateLimiter::new(0);
        let t0 = Instant::now();
        assert!((0..1000).all(|_| rl.check(ip("127.0.0.1"), t0).is_ok()));
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let rl = RateLimiter::new(1);
        let t0 = Instant::now();
        assert!(rl.check(ip("2001:db8::1"), t0).is_ok());
        assert!(rl.check(ip("2001:db8::2"), t0).is_err());
        assert!(rl.check(ip("2001:db8:0:1::1"), t0).is_ok());
        assert!(rl.check(ip("::ffff:127.0.0.9"), t0).is_ok());
        assert!(rl.check(ip("127.0.0.9"), t0).is_err());
    }

    #[test]
    fn idle_clients_are_pruned() {
        let rl = RateLimiter::new(60);
        let t0 = Instant::now();
        for i in 0..PRUNE_AT as u32 {
            rl.check(IpAddr::V4(i.into()), t0).unwrap();
        }
        rl.check(ip("127.0.0.1"), t0 + Duration::from_secs(2))
            .unwrap();
        assert!(rl.buckets.lock().unwrap().len() < 10);
    }
}
