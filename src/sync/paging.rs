//! Every loop over a vendor's pages is bounded: a cursor that comes back,
//! empty pages that keep promising more, or far more pages than the
//! vendor's own total allows end the read with an error instead of
//! running forever (or, worse, ending early and calling it done).

use std::collections::HashSet;

/// Empty pages in a row that still promise more before the read stops.
pub const MAX_EMPTY_PAGES: u32 = 3;

/// Watches one paged read.
#[derive(Debug, Default)]
pub struct PageGuard {
    seen: HashSet<String>,
    empty_run: u32,
    pages: u64,
    page_size: u64,
    total: Option<u64>,
}

impl PageGuard {
    /// A guard for pages of up to `page_size` records.
    pub fn new(page_size: usize) -> PageGuard {
        PageGuard { page_size: page_size.max(1) as u64, ..PageGuard::default() }
    }

    /// The vendor said how many records the read holds.
    pub fn expect_total(&mut self, total: u64) {
        self.total = Some(self.total.map_or(total, |t| t.max(total)));
    }

    /// Checks a page of `len` records after which the vendor points at
    /// `next` (None: the end). Returns why the read must stop, if it must.
    pub fn step(&mut self, next: Option<&str>, len: usize) -> Result<(), String> {
        self.pages += 1;
        let Some(next) = next else { return Ok(()) };
        if !self.seen.insert(next.to_string()) {
            return Err(format!("the cursor \"{}\" came back after {} pages", short(next), self.pages));
        }
        if len == 0 {
            self.empty_run += 1;
            if self.empty_run >= MAX_EMPTY_PAGES {
                return Err(format!("{} empty pages in a row that still promised more", self.empty_run));
            }
        } else {
            self.empty_run = 0;
        }
        if let Some(total) = self.total {
            // Twice the pages the total needs, and some slack for records
            // added while reading.
            let allowed = 2 * total.div_ceil(self.page_size) + 10;
            if self.pages > allowed {
                return Err(format!("{} pages for {total} records", self.pages));
            }
        }
        Ok(())
    }

    /// Pages read so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }
}

/// A cursor for a message: vendors' cursors can be long.
fn short(c: &str) -> String {
    match c.char_indices().nth(24) {
        Some((i, _)) => format!("{}…", &c[..i]),
        None => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_normal_read_passes() {
        let mut g = PageGuard::new(100);
        g.expect_total(250);
        assert!(g.step(Some("100"), 100).is_ok());
        assert!(g.step(Some("200"), 100).is_ok());
        assert!(g.step(None, 50).is_ok());
        assert_eq!(g.pages(), 3);
    }

    #[test]
    fn a_cursor_that_comes_back_stops_the_read() {
        let mut g = PageGuard::new(100);
        assert!(g.step(Some("a"), 100).is_ok());
        assert!(g.step(Some("b"), 100).is_ok());
        let e = g.step(Some("a"), 100).unwrap_err();
        assert!(e.contains("came back after 3 pages"), "{e}");
    }

    #[test]
    fn empty_pages_with_a_moving_cursor_stop_the_read() {
        let mut g = PageGuard::new(100);
        assert!(g.step(Some("1"), 0).is_ok());
        assert!(g.step(Some("2"), 0).is_ok());
        assert!(g.step(Some("3"), 0).unwrap_err().contains("3 empty pages"));
        let mut g = PageGuard::new(100);
        for i in 0..10 {
            let len = if i % 2 == 0 { 0 } else { 5 };
            assert!(g.step(Some(&i.to_string()), len).is_ok(), "an empty page now and then is fine");
        }
    }

    #[test]
    fn far_more_pages_than_the_total_stop_the_read() {
        let mut g = PageGuard::new(100);
        g.expect_total(100);
        let stopped = (0..100).map(|i| g.step(Some(&i.to_string()), 1)).position(|r| r.is_err());
        assert_eq!(stopped, Some(12), "2 pages needed, 12 allowed");
    }
}
