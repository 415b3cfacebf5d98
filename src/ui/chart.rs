//! Horizontal bar charts on stdout (`usage --by day`): one line per label, the bar's length in
//! proportion to its value. Unicode eighth blocks on a terminal, `#` into a pipe.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

/// The eighths of a block, from one eighth to a full block.
const EIGHTHS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];

/// One bar: its label, its value and the value as shown.
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub shown: String,
}

/// The chart for stdout: as wide as the terminal with eighth blocks, or 80 columns of `#`
/// into a pipe.
pub fn render_for_stdout(bars: &[Bar]) -> String {
    let terminal = std::io::stdout().is_terminal();
    let width = if terminal {
        comfy_table::Table::new()
            .width()
            .map(usize::from)
            .filter(|w| *w > 0)
            .unwrap_or(super::table::FALLBACK_WIDTH)
    } else {
        super::table::FALLBACK_WIDTH
    };
    render(bars, width, terminal)
}

/// The chart, `width` columns wide at most; `unicode` draws with eighth blocks, otherwise `#`.
pub fn render(bars: &[Bar], width: usize, unicode: bool) -> String {
    let label_width = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let shown_width = bars
        .iter()
        .map(|b| b.shown.chars().count())
        .max()
        .unwrap_or(0);
    let room = width.saturating_sub(label_width + shown_width + 2).max(10);
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let mut out = String::new();
    for bar in bars {
        let fraction = if max > 0.0 { bar.value / max } else { 0.0 };
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let eighths = (fraction * (room * 8) as f64).round() as usize;
        let drawn = if unicode {
            let mut s = EIGHTHS[7].to_string().repeat(eighths / 8);
            if eighths % 8 > 0 {
                s.push(EIGHTHS[eighths % 8 - 1]);
            }
            s
        } else {
            "#".repeat((eighths + 4) / 8)
        };
        let pad = room.saturating_sub(drawn.chars().count());
        let _ = writeln!(
            out,
            "{:<label_width$} {drawn}{:pad$} {:>shown_width$}",
            bar.label, "", bar.shown
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> Vec<Bar> {
        vec![
            Bar {
                label: "2026-12-01".into(),
                value: 4.0,
                shown: "$4.00".into(),
            },
            Bar {
                label: "2026-12-02".into(),
                value: 1.0,
                shown: "$1.00".into(),
            },
            Bar {
                label: "2026-12-03".into(),
                value: 0.0,
                shown: "$0.00".into(),
            },
        ]
    }

    #[test]
    fn bars_are_proportional_and_fit_the_width() {
        let text = render(&bars(), 40, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        // A quarter of the longest bar, give or take the rounding to whole characters.
        let (long, short) = (lines[0].matches('#').count(), lines[1].matches('#').count());
        assert!(long >= 20 && long.abs_diff(4 * short) <= 4, "{text}");
        assert_eq!(lines[2].matches('#').count(), 0);
        for line in &lines {
            assert_eq!(line.chars().count(), 40, "{line:?}");
        }
        assert!(lines[0].ends_with("$4.00"), "{text}");
    }

    #[test]
    fn a_terminal_gets_eighth_blocks() {
        let text = render(&bars(), 40, true);
        assert!(text.contains('█'), "{text}");
        assert!(!text.contains('#'), "{text}");
        for line in text.lines() {
            assert_eq!(line.chars().count(), 40, "{line:?}");
        }
    }
}
