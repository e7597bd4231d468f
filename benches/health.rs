//! Health recompute at scale: a 100,000-account workspace with a year of
//! daily inputs per account, rescored after a model change.
//!
//! `cargo bench --bench health` (add `-- --accounts N` for another size,
//! or `-- --dir DIR` to run on a workspace made by `cockpit demo`: it is
//! changed, so give it a copy). The workspace is made by the real binary
//! (`cockpit demo`) so this process's peak memory (VmHWM) covers only
//! opening it and the rescoring.

use std::time::Instant;

// The binary's allocator, so figures match what a CSM runs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::Utc;
use cockpit::domain::flags::FlagRules;
use cockpit::domain::health_model::{Model, DEFAULT_MODEL};
use cockpit::domain::Bands;
use cockpit::store::{HealthRules, SincePass, Store};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn peak_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of this process so far (user + system, from /proc/self/stat,
/// in ticks of 10 ms), in seconds: on a shared machine it says what a pass
/// costs when wall time does not.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends at the last ')'): utime and
    // stime are the 12th and 13th.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let ticks: Vec<f64> = rest.split_whitespace().skip(11).take(2).filter_map(|f| f.parse().ok()).collect();
    ticks.iter().sum::<f64>() / 100.0
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let accounts: u64 = arg("--accounts").and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let dir = match arg("--dir") {
        Some(d) => {
            let dir = std::path::PathBuf::from(d);
            println!("workspace {} ({} MB on disk)", dir.display(), dir_size(&dir) / 1_000_000);
            dir
        }
        None => {
            let dir = tmp.path().join("ws");
            let t0 = Instant::now();
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_cockpit"))
                .args(["--data-dir", dir.to_str().unwrap(), "demo", "--accounts", &accounts.to_string()])
                .stdout(std::process::Stdio::null())
                .status()
                .expect("run cockpit demo");
            assert!(status.success());
            println!(
                "generated {accounts} accounts with a year of daily inputs in {:.1} s ({} MB on disk)",
                t0.elapsed().as_secs_f64(),
                dir_size(&dir) / 1_000_000
            );
            dir
        }
    };

    let store = Store::open(&dir).unwrap();
    let today = Utc::now().date_naive();
    let builtin = Model::builtin();
    let stricter = Model::parse(
        &DEFAULT_MODEL
            .replace("version = 2", "version = 3")
            .replace("linear = { zero_at = 60, full_at = 7 }", "linear = { zero_at = 30, full_at = 7 }"),
    )
    .unwrap();
    let mut times = Vec::new();
    for (run, model) in [&stricter, &builtin, &stricter].into_iter().enumerate() {
        let (t, cpu) = (Instant::now(), cpu_secs());
        let r = store.recompute_health(model, today).unwrap();
        let secs = t.elapsed().as_secs_f64();
        times.push(secs);
        println!(
            "recompute {} (model v{}): {:.2} s (CPU {:.2} s) — {} accounts, {} account-years read, {} rewritten, {} rows changed",
            run + 1,
            model.version,
            secs,
            cpu_secs() - cpu,
            r.accounts,
            r.years,
            r.rewritten,
            r.rows_changed
        );
    }
    times.sort_by(f64::total_cmp);
    println!("recompute median {:.2} s (target < 2 s)", times[1]);

    let (flags, bands) = (FlagRules::default(), Bands::default());
    let (t, cpu) = (Instant::now(), cpu_secs());
    let d = store.daily_health(HealthRules { model: &stricter, flags: &flags, bands: &bands }, Utc::now()).unwrap();
    println!(
        "daily pass: {:.2} s (CPU {:.2} s) — {} accounts scored from their records, {} flags raised, {} cleared",
        t.elapsed().as_secs_f64(),
        cpu_secs() - cpu,
        d.scored,
        d.raised,
        d.cleared
    );
    // During the day: 100 accounts change (a stage move each, as a sync
    // page or the CSM would); the pass after scores them alone.
    let now = Utc::now();
    let rules = HealthRules { model: &stricter, flags: &flags, bands: &bands };
    let rows: Vec<_> = store.first_rows(100).unwrap();
    let moves: Vec<_> = rows.iter().map(|r| (r.id, r.stage, r.stage.next().or(r.stage.prev()).unwrap())).collect();
    let mut times = Vec::new();
    let mut scored = 0;
    for i in 0..5 {
        for (id, from, to) in &moves {
            let by = cockpit::engine::act::Author::new("bench", now);
            cockpit::engine::act::set_stage(&store, *id, if i % 2 == 0 { *to } else { *from }, &by).unwrap();
        }
        let t = Instant::now();
        let mut pass = SincePass::default();
        while store.since_step(rules, now, &mut pass, 1_000).unwrap() {}
        times.push(t.elapsed().as_secs_f64() * 1e3);
        scored = pass.report.scored;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "pass over the accounts changed since the day's pass: median {:.1} ms (min {:.1}, max {:.1}) — {scored} scored",
        times[2], times[0], times[4]
    );
    if let Some(kib) = peak_kib() {
        println!("peak memory of this process (open + recomputes + daily pass): {} MB", kib / 1024);
    }
}
