//! A drawn screen as text for assertions and snapshots.

use ratatui::buffer::Buffer;

/// Each row's symbols, trailing spaces trimmed.
pub fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Text plus a compact map of styles per run of cells, so colour changes show.
pub fn styled(buf: &Buffer) -> String {
    let mut out = text(buf);
    out.push_str("--- styles (x..x: fg bg modifiers) ---\n");
    for y in 0..buf.area.height {
        let mut runs = Vec::new();
        let mut start = 0;
        for x in 1..=buf.area.width {
            let same = x < buf.area.width && {
                let (a, b) = (&buf[(x, y)], &buf[(start, y)]);
                (a.fg, a.bg, a.modifier) == (b.fg, b.bg, b.modifier)
            };
            if !same {
                let c = &buf[(start, y)];
                runs.push(format!("{start}..{}: {:?} {:?} {:?}", x - 1, c.fg, c.bg, c.modifier));
                start = x;
            }
        }
        out.push_str(&format!("{y}: {}\n", runs.join(" | ")));
    }
    out
}
