// Shared body of the memload examples (included, not a module of its own).
use chrono::Utc;
use cockpit::book::Book;
use cockpit::store::Store;

fn status(label: &str) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        s.lines().find(|l| l.starts_with(k)).and_then(|l| l.split_whitespace().nth(1)).unwrap_or("?").to_string()
    };
    let mb = |v: String| v.parse::<f64>().map(|k| format!("{:6.1}", k / 1024.0)).unwrap_or(v);
    eprintln!("{label:<28} RSS {} MB  HWM {} MB", mb(get("VmRSS:")), mb(get("VmHWM:")));
}

fn body() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
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
        let m = store.follow_ups_before(cockpit::domain::followup::end_of_day(now)).filter(|r| r.is_ok()).count();
        status(&format!("scanned {m} follow-ups"));
        return;
    }
    let now = Utc::now();
    let first = Book::load_first(&store, 200).expect("first");
    let q0 = cockpit::queue::load(&store, now, 200).expect("first queue");
    status("first page");
    let mut book = Book::load(&store).expect("book");
    status("book loaded");
    let queue = cockpit::queue::load_with(&store, now, usize::MAX, Some(&book)).expect("queue");
    status(&format!("queue loaded ({})", queue.len()));
    book.precompute_orders();
    status("orders");
    let index = cockpit::tui::queue_index::QueueIndex::new(&queue, now);
    status("queue index");
    drop((first, q0));
    std::hint::black_box((&book, &queue, &index));
    status("end");
}

fn stats(dir: &std::path::Path) {
    use cockpit::domain::text::sanitize;
    let store = Store::open_lean(dir).expect("open");
    let now = Utc::now();
    let q = cockpit::queue::load(&store, now, usize::MAX).unwrap();
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
