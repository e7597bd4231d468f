//! The cockpit's load path in phases (open, first page, book, queue,
//! orders), with the process's memory and the time after each, on the
//! system allocator so heaptrack sees every allocation:
//! `cargo bench --bench memload -- DIR [scan|pass|pass-scan|stats]`
//! (`scan`: sled alone, open and scan the rows and follow-ups; `pass`: the
//! upkeep first, as on a day's first start).

use chrono::Utc;
use cockpit::book::Book;
use cockpit::store::Store;

fn status(label: &str) {
    thread_local!(static LAST: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) });
    let ms = LAST.with(|l| {
        let now = std::time::Instant::now();
        let ms = l.get().map_or(0.0, |t| (now - t).as_secs_f64() * 1e3);
        l.set(Some(now));
        ms
    });
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        s.lines().find(|l| l.starts_with(k)).and_then(|l| l.split_whitespace().nth(1)).unwrap_or("?").to_string()
    };
    let mb = |v: String| v.parse::<f64>().map(|k| format!("{:6.1}", k / 1024.0)).unwrap_or(v);
    eprintln!(
        "{label:<28} RSS {} MB  HWM {} MB  glibc heap {:6.1} MB  {ms:7.1} ms",
        mb(get("VmRSS:")),
        mb(get("VmHWM:")),
        glibc_heap_mb()
    );
}

/// The bytes glibc's malloc has handed out and not had back (0 under
/// mimalloc, which the global allocator then is).
#[allow(unsafe_code)]
fn glibc_heap_mb() -> f64 {
    // SAFETY: mallinfo2 only reads the allocator's counters.
    let info = unsafe { libc::mallinfo2() };
    (info.uordblks + info.hblkhd) as f64 / 1024.0 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` with no arguments passes `--bench`: say how to run it.
    let Some(dir) = args.get(1).filter(|a| !a.starts_with('-')) else {
        println!("usage: cargo bench --bench memload -- DIR [full|scan|pass|pass-scan|stats]");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mode = args.get(2).map(String::as_str).unwrap_or("full");
    if mode == "stats" {
        return stats(&dir);
    }
    status("start");
    let store = Store::open_lean(&dir).expect("open");
    status("opened");
    if mode == "scan" {
        let n = store.rows().filter(|r| r.is_ok()).count();
        status(&format!("scanned {n} rows"));
        let now = Utc::now();
        let cal = cockpit::domain::calendar::Calendar::default();
        let m = store.follow_ups_before(cal.bounds(now).horizon).filter(|r| r.is_ok()).count();
        status(&format!("scanned {m} follow-ups"));
        return;
    }
    let now = Utc::now();
    let cal = cockpit::domain::calendar::Calendar::default();
    if mode == "pass" || mode == "pass-scan" {
        // The upkeep the cockpit runs before its load (the day's pass when
        // the day turned), inline.
        use cockpit::engine::upkeep::{HealthSetup, Pass, Upkeep};
        let setup = std::sync::Arc::new(HealthSetup {
            model: cockpit::domain::health_model::Model::builtin(),
            flags: Default::default(),
            bands: Default::default(),
            write_back: None,
        });
        let changed = Upkeep::new(setup, now, Pass::Upkeep, |_| {}).run(&store).expect("upkeep");
        status(&format!("upkeep (changed: {changed})"));
        if mode == "pass-scan" {
            let n = store.rows().filter(|r| r.is_ok()).count();
            let end = cal.bounds(now).horizon;
            let m = store.follow_ups_before(end).filter(|r| r.is_ok()).count();
            status(&format!("scanned {n} rows, {m} follow-ups"));
            return;
        }
    }
    let first = Book::load_first(&store, 200).expect("first");
    let q0 = cockpit::queue::load(&store, now, 200, &cal).expect("first queue");
    status("first page");
    let mut book = Book::load(&store).expect("book");
    status("book loaded");
    let queue = cockpit::queue::load_with(&store, now, usize::MAX, Some(&book), &cal).expect("queue");
    status(&format!("queue loaded ({})", queue.len()));
    book.precompute_orders();
    status("orders");
    let index = cockpit::tui::queue_index::QueueIndex::new(&queue, &cal.bounds(now));
    status("queue index");
    drop((first, q0));
    std::hint::black_box((&book, &queue, &index));
    status("end");
}

fn stats(dir: &std::path::Path) {
    use cockpit::domain::text::sanitize;
    let store = Store::open_lean(dir).expect("open");
    let now = Utc::now();
    let cal = cockpit::domain::calendar::Calendar::default();
    let q = cockpit::queue::load(&store, now, usize::MAX, &cal).unwrap();
    let (mut an, mut rn, mut rs, mut ra) = (0usize, 0usize, 0usize, std::collections::HashSet::new());
    let mut reasons = std::collections::HashSet::new();
    for i in &q {
        an += i.account.len();
        rn += i.follow_up.reason.len();
        rs += usize::from(matches!(sanitize(&i.follow_up.reason), std::borrow::Cow::Owned(_)));
        ra.insert(i.follow_up.account_id);
        reasons.insert(i.follow_up.reason.clone());
    }
    eprintln!(
        "items {} accounts {} distinct reasons {} avg name {} avg reason {} sanitized-differ {} sizes item {} fu {} row {}",
        q.len(), ra.len(), reasons.len(), an / q.len(), rn / q.len(), rs,
        std::mem::size_of::<cockpit::queue::QueueItem>(),
        std::mem::size_of::<cockpit::domain::FollowUp>(),
        std::mem::size_of::<cockpit::domain::AccountRow>()
    );
}
