//! A sliding-window rate limiter shared by all of a source's tasks.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug, Default)]
struct State {
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

/// At most `max` requests in any window of `per`, and none during a pause.
#[derive(Debug)]
pub struct RateLimiter {
    max: usize,
    per: Duration,
    state: Mutex<State>,
}

impl RateLimiter {
    /// A limiter allowing `max` requests per `per`.
    pub fn new(max: usize, per: Duration) -> RateLimiter {
        RateLimiter { max: max.max(1), per, state: Mutex::new(State::default()) }
    }

    /// Waits until one more request fits, then counts it.
    pub async fn acquire(&self) {
        loop {
            let mut st = self.state.lock().await;
            let now = Instant::now();
            let wait = match st.paused_until {
                Some(until) if until > now => until - now,
                _ => {
                    st.paused_until = None;
                    while st.sent.front().is_some_and(|t| now.duration_since(*t) >= self.per) {
                        st.sent.pop_front();
                    }
                    match st.sent.front() {
                        Some(first) if st.sent.len() >= self.max => self.per - now.duration_since(*first),
                        _ => {
                            st.sent.push_back(now);
                            return;
                        }
                    }
                }
            };
            drop(st);
            tokio::time::sleep(wait).await;
        }
    }

    /// Holds every request back for `pause` (after a 429 that says how long).
    pub async fn pause(&self, pause: Duration) {
        let mut st = self.state.lock().await;
        let until = Instant::now() + pause;
        if st.paused_until.is_none_or(|u| u < until) {
            st.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_max_per_window() {
        let rl = RateLimiter::new(3, Duration::from_secs(10));
        let start = Instant::now();
        for _ in 0..3 {
            rl.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        rl.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn pause_holds_everything_back() {
        let rl = RateLimiter::new(5, Duration::from_secs(1));
        let start = Instant::now();
        rl.pause(Duration::from_secs(4)).await;
        rl.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(4));
    }
}
