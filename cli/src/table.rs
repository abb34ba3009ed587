//! Tables that fit the terminal: columns as wide as their widest cell,
//! and, when the row is wider than the terminal (`COLUMNS`, else the tty's
//! width, else no limit), the widest columns cut with `…` until it fits.

/// The terminal's width, if output goes to one (or `COLUMNS` says).
pub fn width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(c);
    }
    // SAFETY: TIOCGWINSZ writes a winsize into ws; fd 1 may not be a tty (then rc != 0).
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

/// `rows` under `head`, laid out to fit `max` columns.
pub fn render(head: &[&str], rows: &[Vec<String>], max: Option<usize>) -> String {
    let n = head.len();
    let len = |s: &str| s.chars().count();
    let mut w: Vec<usize> = head.iter().map(|h| len(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(len(c));
        }
    }
    if let Some(max) = max {
        // Two spaces between columns; no column below its header or 4.
        let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * n.saturating_sub(1);
        while total(&w) > max {
            let (i, &widest) = w.iter().enumerate().max_by_key(|(_, v)| **v).expect("columns");
            let floor = len(head[i]).max(4);
            if widest <= floor {
                break;
            }
            w[i] -= 1;
        }
    }
    let cell = |s: &str, width: usize| {
        if len(s) <= width {
            format!("{s:<width$}")
        } else {
            let cut: String = s.chars().take(width.saturating_sub(1)).collect();
            format!("{cut}…")
        }
    };
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells.iter().enumerate().map(|(i, c)| cell(c, w[i])).collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(head.to_vec());
    for r in rows {
        out += &line(r.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_the_width_by_cutting_the_widest_column() {
        let rows = vec![vec!["a".to_string(), "x".repeat(40)], vec!["bb".to_string(), "short".to_string()]];
        let wide = render(&["ID", "NAME"], &rows, None);
        assert_eq!(wide.lines().nth(1).unwrap(), format!("a   {}", "x".repeat(40)));
        let narrow = render(&["ID", "NAME"], &rows, Some(20));
        for l in narrow.lines() {
            assert!(l.chars().count() <= 20, "{l:?}");
        }
        assert!(narrow.lines().nth(1).unwrap().ends_with('…'));
        assert_eq!(narrow.lines().nth(2).unwrap(), "bb  short");
    }
}
