//! The run encoding of a year of daily inputs: a day is stored only as far
//! as it differs from what the day before predicts.
//!
//! Measured on a 100,000-account demo book, 99.9% of days differ from the
//! day before, but mostly because the days-since inputs (contact, oldest
//! ticket, payment, login) count up by one; beyond those, a day changes 2
//! of its 17 bytes on average, and a synced book far fewer. So the
//! prediction for a day is the day before, with every byte that went up by
//! one that day (from below 254, the cap of counted days) going up by one
//! again. A day equal to its prediction costs nothing but its share of a
//! run; another costs a tag, the mask of the bytes that differ and their
//! values.
//!
//! The days, from the year's first stored day on, are a sequence of ops:
//!
//! | tag          | meaning                                                |
//! |--------------|--------------------------------------------------------|
//! | `00nn nnnn`  | n+1 days, each its prediction                          |
//! | `01nn nnnn`  | n+1 unknown days (every byte `UNKNOWN`)                |
//! | `1Mmm mmmm`  | one day: its prediction but for the bytes in the mask  |
//!
//! A change's mask has bytes 0-5 in the tag's low bits; when `M` is set,
//! mask bytes follow, seven bits each (bytes 6-12, 13-19, ...) with the top
//! bit set when another follows; then the new values in byte order. An
//! unknown day breaks the counting: the day after one predicts no steps.

use crate::domain::signals::UNKNOWN;

/// The widest day the encoding handles (a day's bytes are lanes of a mask).
pub const MAX_WIDTH: usize = 32;
/// Most days one run or gap op covers.
const MAX_COUNT: usize = 64;
const GAP: u8 = 0x40;
const CHANGE: u8 = 0x80;
const MORE: u8 = 0x40;
/// The cap of counted days: a byte there does not step on to `UNKNOWN`.
const CAP: u8 = UNKNOWN - 1;

/// A day as four words of eight byte lanes, padded with `UNKNOWN`: the
/// encoder compares whole days a word at a time.
type Words = [u64; 4];

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const TOPS: u64 = !LOW7;
const ONES: u64 = 0x0101_0101_0101_0101;
/// An unknown day: every lane `UNKNOWN`.
const GAP_DAY: Words = [u64::MAX; 4];
const _: () = assert!(UNKNOWN == 0xff);

/// The top bit of each lane of `x` that is not zero.
fn nonzero_tops(x: u64) -> u64 {
    (((x & LOW7) + LOW7) | x) & TOPS
}

/// The top bit of each lane of `x` that is zero.
fn zero_tops(x: u64) -> u64 {
    !nonzero_tops(x) & TOPS
}

/// Each lane plus one, wrapping within the lane.
fn lanes_plus_one(x: u64) -> u64 {
    ((x & LOW7) + ONES) ^ (x & TOPS)
}

/// The mask of the lanes whose top bit is set in `tops`.
fn gather(tops: &Words) -> u32 {
    tops.iter()
        .enumerate()
        .fold(0, |m, (k, t)| m | (((t >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32) << (8 * k))
}

/// A day's bytes as words (each built in a register: written to memory
/// a word at a time and read back two at a time, they would stall).
fn words(day: &[u8]) -> Words {
    let word = |k: usize| {
        let bytes = day.get(8 * k..).unwrap_or_default();
        match bytes.get(..8) {
            Some(b) => u64::from_le_bytes(b.try_into().expect("8 bytes")),
            None => u64::MAX << (8 * bytes.len()) | bytes.iter().rev().fold(0, |w, b| w << 8 | u64::from(*b)),
        }
    };
    [word(0), word(1), word(2), word(3)]
}

/// The lanes set in a mask, lowest first.
fn bits(mut mask: u32) -> impl Iterator<Item = usize> + Clone {
    std::iter::from_fn(move || {
        let i = mask.trailing_zeros() as usize;
        mask &= mask.checked_sub(1)?;
        Some(i)
    })
}

/// Appends the ops for `days` (consecutive days of `width` bytes each).
pub fn encode(days: &[u8], width: usize, out: &mut Vec<u8>) {
    let mut e = Encoder::new(width);
    days.chunks_exact(width).for_each(|d| e.day(d, out));
    e.finish(out);
}

/// Writes ops a day at a time.
struct Encoder {
    /// The last known day.
    last: Words,
    /// The top bit of each lane that steps.
    step: Words,
    /// Whether the last day was a known one (not the start, not a gap).
    after_day: bool,
    /// The days of the run or gap being counted.
    run: usize,
    gap: usize,
    /// Where the last op written starts.
    last_op: Option<usize>,
}

impl Encoder {
    fn new(width: usize) -> Encoder {
        assert!((2..=MAX_WIDTH).contains(&width), "a day of {width} bytes");
        Encoder { last: GAP_DAY, step: [0; 4], after_day: false, run: 0, gap: 0, last_op: None }
    }

    /// The encoder as it is after `days`, found from their last two days
    /// (what it keeps of the days before is the last known one).
    fn after(days: &[u8], width: usize) -> Encoder {
        let mut e = Encoder::new(width);
        let mut rows = days.chunks_exact(width).rev();
        let Some(last) = rows.next() else { return e };
        let last = words(last);
        if is_gap(&last) {
            e.last = rows.map(words).find(|d| !is_gap(d)).unwrap_or(GAP_DAY);
            return e;
        }
        if let Some(before) = rows.next().map(words).filter(|d| !is_gap(d)) {
            e.step = [0, 1, 2, 3].map(|k| up_tops(&last, &before, k) & nonzero_tops(!(before[k] | ONES)));
        }
        (e.last, e.after_day) = (last, true);
        e
    }

    fn op(&mut self, out: &mut Vec<u8>, tag: u8) {
        self.last_op = Some(out.len());
        out.push(tag);
    }

    fn close_run(&mut self, out: &mut Vec<u8>) {
        if self.run > 0 {
            self.op(out, (self.run - 1) as u8);
            self.run = 0;
        }
    }

    fn close_gap(&mut self, out: &mut Vec<u8>) {
        if self.gap > 0 {
            self.op(out, GAP | (self.gap - 1) as u8);
            self.gap = 0;
        }
    }

    /// Counts or writes the next day.
    fn day(&mut self, day: &[u8], out: &mut Vec<u8>) {
        let day = words(day);
        if is_gap(&day) {
            self.close_run(out);
            self.gap += 1;
            if self.gap == MAX_COUNT {
                self.close_gap(out);
            }
            (self.step, self.after_day) = ([0; 4], false);
            return;
        }
        self.close_gap(out);
        // Lanes as predicted: one up where they step, as they were elsewhere.
        let (mut up, mut changed) = ([0u64; 4], [0u64; 4]);
        for k in 0..4 {
            up[k] = up_tops(&day, &self.last, k);
            let same = zero_tops(day[k] ^ self.last[k]);
            changed[k] = !((self.step[k] & up[k]) | (!self.step[k] & same)) & TOPS;
        }
        // Scalar tests: comparing the arrays would read back, two words at
        // a time, the words just written one at a time.
        if changed[0] | changed[1] | changed[2] | changed[3] == 0 {
            self.run += 1;
            if self.run == MAX_COUNT {
                self.close_run(out);
            }
        } else {
            self.close_run(out);
            let mask = gather(&changed);
            let mut rest = mask >> 6;
            self.op(out, CHANGE | (mask & 0x3f) as u8 | if rest != 0 { MORE } else { 0 });
            while rest != 0 {
                let seven = (rest & 0x7f) as u8;
                rest >>= 7;
                out.push(seven | if rest != 0 { 0x80 } else { 0 });
            }
            out.extend(bits(mask).map(|i| (day[i / 8] >> (i % 8 * 8)) as u8));
        }
        // What steps next: lanes one up from below the cap.
        let after_day = self.after_day;
        for ((step, up), last) in self.step.iter_mut().zip(up).zip(self.last) {
            *step = if after_day { up & nonzero_tops(!(last | ONES)) } else { 0 };
        }
        (self.last, self.after_day) = (day, true);
    }

    /// Writes the run or gap being counted.
    fn finish(&mut self, out: &mut Vec<u8>) {
        self.close_run(out);
        self.close_gap(out);
    }
}

/// The top bit of each lane of word `k` one above the same lane of `last`.
fn up_tops(day: &Words, last: &Words, k: usize) -> u64 {
    zero_tops(day[k] ^ lanes_plus_one(last[k]))
}

/// Whether every lane is `UNKNOWN` (scalar: comparing the arrays would read
/// back, two words at a time, words just written one at a time).
fn is_gap(day: &Words) -> bool {
    day[0] & day[1] & day[2] & day[3] == u64::MAX
}

/// A year's ops kept with the days they encode, so a day added at the end
/// (what the daily pass does), or the last day replaced, is encoded alone
/// rather than the whole year again.
#[derive(Debug, Clone, Default)]
pub struct Ops {
    bytes: Vec<u8>,
    /// Where the last op starts, when known.
    last_op: Option<usize>,
}

impl Ops {
    /// The ops.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Appends days: `new` after `before`, the days the ops encode so far.
    pub fn push(&mut self, before: &[u8], new: &[u8], width: usize) {
        let mut e = Encoder::after(before, width);
        // A run or gap that can take more days is counted on.
        if let Some(at) = self.last_op.filter(|at| at + 1 == self.bytes.len()) {
            let tag = self.bytes[at];
            let n = (tag & 0x3f) as usize + 1;
            if tag & CHANGE == 0 && n < MAX_COUNT {
                self.bytes.truncate(at);
                *(if tag & GAP == 0 { &mut e.run } else { &mut e.gap }) = n;
            }
        }
        e.last_op = self.last_op;
        new.chunks_exact(width).for_each(|d| e.day(d, &mut self.bytes));
        e.finish(&mut self.bytes);
        self.last_op = e.last_op;
    }

    /// Drops the last day; false when the ops cannot tell where it starts
    /// (they then no longer encode the days).
    pub fn pop(&mut self) -> bool {
        let Some(at) = self.last_op else { return false };
        let tag = self.bytes[at];
        if tag & CHANGE == 0 && tag & 0x3f > 0 {
            self.bytes[at] = tag - 1;
        } else {
            self.bytes.truncate(at);
            self.last_op = None;
        }
        true
    }
}

/// Reads ops a day at a time, moving the caller's day on in place: a day
/// is mostly the day before, so no day is built from scratch or copied.
pub struct Decoder<'a> {
    ops: &'a [u8],
    at: usize,
    width: usize,
    /// Days still to read (the year's end, or 0 once the ops are done).
    left: usize,
    /// Days left of the current run or gap op.
    pending: usize,
    in_gap: bool,
    /// The lanes that went up by one on the last day.
    step: u32,
    /// Whether the last day was a known one (not the start, not a gap).
    after_day: bool,
    started: bool,
    /// The last known day, while in a gap.
    kept: [u8; MAX_WIDTH],
    /// Where the op last read starts.
    last_op: Option<usize>,
    damaged: bool,
}

impl<'a> Decoder<'a> {
    /// Days of `width` bytes from `ops`, at most `max_days` of them.
    pub fn new(ops: &'a [u8], width: usize, max_days: usize) -> Decoder<'a> {
        let left = if (2..=MAX_WIDTH).contains(&width) { max_days } else { 0 };
        Decoder {
            ops,
            at: 0,
            width,
            left,
            pending: 0,
            in_gap: false,
            step: 0,
            after_day: false,
            started: false,
            kept: [UNKNOWN; MAX_WIDTH],
            last_op: None,
            damaged: false,
        }
    }

    /// Once the days are read: the ops as read, when they encode exactly
    /// the days given (not damaged, not cut at the year's end).
    pub fn into_ops(self) -> Option<Ops> {
        let whole = !self.damaged && self.at == self.ops.len() && self.pending == 0;
        whole.then(|| Ops { bytes: self.ops.to_vec(), last_op: self.last_op })
    }

    /// Moves `day` (`width` bytes, holding the day this gave last, as it
    /// gave it) on to the next day; false when there is none. A damaged op
    /// ends the days there.
    #[inline]
    pub fn next_into(&mut self, day: &mut [u8]) -> bool {
        // Most days are the next of a run: moved on here, inline.
        if self.pending > 0 && self.left > 0 {
            self.pending -= 1;
            self.left -= 1;
            if !self.in_gap {
                self.advance(day);
            }
            return true;
        }
        self.next_op(day)
    }

    /// The next day when it starts an op.
    #[inline(never)]
    fn next_op(&mut self, day: &mut [u8]) -> bool {
        if self.left == 0 {
            return false;
        }
        if !self.started {
            day.fill(UNKNOWN);
            self.started = true;
        }
        if !self.read_op(day) {
            self.damaged |= self.at < self.ops.len();
            self.left = 0;
            return false;
        }
        self.left -= 1;
        if self.pending > 0 {
            self.pending -= 1;
            if !self.in_gap {
                self.advance(day);
            }
        }
        true
    }

    /// A day as predicted: stepping lanes up by one; one stepping onto 255
    /// (from the cap) stops stepping.
    #[inline]
    fn advance(&mut self, day: &mut [u8]) {
        for i in bits(self.step) {
            day[i] = day[i].wrapping_add(1);
            if day[i] == UNKNOWN {
                self.step &= !(1 << i);
            }
        }
        self.after_day = true;
    }

    /// Reads the next op: a run or gap is left pending, a change is
    /// applied. False at the end of the ops or at damage.
    fn read_op(&mut self, day: &mut [u8]) -> bool {
        let Some(&tag) = self.ops.get(self.at) else { return false };
        self.last_op = Some(self.at);
        self.at += 1;
        let n = (tag & 0x3f) as usize + 1;
        if tag & CHANGE == 0 && tag & GAP != 0 {
            if !self.in_gap {
                self.kept[..self.width].copy_from_slice(day);
                day.fill(UNKNOWN);
                self.in_gap = true;
            }
            (self.step, self.after_day, self.pending) = (0, false, n);
            return true;
        }
        if self.in_gap {
            day.copy_from_slice(&self.kept[..self.width]);
            self.in_gap = false;
        }
        if tag & CHANGE == 0 {
            self.pending = n;
            return true;
        }
        let mut mask = u32::from(tag & 0x3f);
        if tag & MORE != 0 {
            let mut shift = 6;
            loop {
                let Some(&b) = self.ops.get(self.at) else { return false };
                self.at += 1;
                if shift >= self.width {
                    return false;
                }
                mask |= u32::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        if mask.checked_shr(self.width as u32).unwrap_or(0) != 0 {
            return false;
        }
        let Some(values) = self.ops.get(self.at..self.at + mask.count_ones() as usize) else { return false };
        self.at += values.len();
        let (stepped, after_day) = (self.step, self.after_day);
        self.advance(day);
        for (i, &now) in bits(mask).zip(values) {
            let was = day[i].wrapping_sub(u8::from(stepped & 1 << i != 0));
            day[i] = now;
            if after_day && was < CAP && now == was + 1 {
                self.step |= 1 << i;
            } else {
                self.step &= !(1 << i);
            }
        }
        true
    }
}

/// Reads ops, calling `day` with each day's bytes (`width`) in order, at
/// most `max_days` of them. A damaged op ends the days there.
pub fn decode(ops: &[u8], width: usize, max_days: usize, mut each: impl FnMut(&[u8])) {
    let mut d = Decoder::new(ops, width, max_days);
    let mut day = [UNKNOWN; MAX_WIDTH];
    let day = &mut day[..width.min(MAX_WIDTH)];
    while d.next_into(day) {
        each(day);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(ops: &[u8], width: usize) -> Vec<u8> {
        let mut out = Vec::new();
        decode(ops, width, 366, |d| out.extend_from_slice(d));
        out
    }

    #[test]
    fn a_count_steps_up_to_the_cap_and_stays_there() {
        // Two-byte days: a count and a stage. 253, 254, then two days as
        // predicted: 255 (the step from the cap), then 255 again, not 0.
        let ops = [CHANGE | 0b11, 253, 1, CHANGE | 0b01, 254, 0x01];
        let days = [253, 1, 254, 1, 255, 1, 255, 1];
        assert_eq!(decoded(&ops, 2), days);
        let mut again = Vec::new();
        encode(&days, 2, &mut again);
        assert_eq!(again, ops);
        // A count at 254 in the lane below another never carries into it.
        let ops = [CHANGE | 0b11, 253, 7, CHANGE | 0b01, 254, 0x02];
        assert_eq!(decoded(&ops, 2), [253, 7, 254, 7, 255, 7, 255, 7, 255, 7]);
    }

    #[test]
    fn runs_longer_than_one_op_and_days_past_the_year_are_cut() {
        let days: Vec<u8> = (0..200).flat_map(|_| [9, 2]).collect();
        let mut ops = Vec::new();
        encode(&days, 2, &mut ops);
        assert_eq!(ops, [CHANGE | 0b11, 9, 2, 63, 63, 63, 6]);
        assert_eq!(decoded(&ops, 2), days);
        let mut out = Vec::new();
        decode(&ops, 2, 100, |d| out.extend_from_slice(d));
        assert_eq!(out, days[..200]);
    }

    proptest::proptest! {
        #[test]
        fn differ_finds_every_lane_that_differs(
            a in proptest::array::uniform32(proptest::prop_oneof![0u8..4, proptest::num::u8::ANY]),
            b in proptest::array::uniform32(proptest::prop_oneof![0u8..4, proptest::num::u8::ANY]),
        ) {
            let naive = (0..MAX_WIDTH).filter(|i| a[*i] != b[*i]).fold(0u32, |m, i| m | 1 << i);
            let tops = [0, 1, 2, 3].map(|k| nonzero_tops(words(&a)[k] ^ words(&b)[k]));
            proptest::prop_assert_eq!(gather(&tops), naive);
            proptest::prop_assert_eq!(&words(&a[..17]).map(u64::to_le_bytes).concat()[..17], &a[..17]);
            proptest::prop_assert_eq!(bits(naive).collect::<Vec<_>>(), (0..MAX_WIDTH).filter(|i| naive & 1 << i != 0).collect::<Vec<_>>());
        }
    }
}
