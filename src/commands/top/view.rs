//! `top`'s screen: draws what [`super::stats`] computed into a ratatui frame. Nothing here
//! reads the clock, the network or the terminal, so a test draws it on a `TestBackend`.
//!
//! From top to bottom: a title, the totals, the providers table, a sparkline of requests per
//! second per provider, the latest failovers, and a status line (the link to the instance,
//! the last reload's result, the routes it cannot read, the keys). [`super::stats::plan`]
//! decides which panels and columns fit.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row as TableRow, Sparkline, Table};

use super::stats::{
    Column, Link, Plan, Row, RowState, SortBy, Totals, clock_utc, format_count, format_latency,
    name_width, plan,
};
use crate::proxy::admin::EventEntry;

/// Everything one frame shows.
#[derive(Debug)]
pub struct Screen<'a> {
    pub url: &'a str,
    pub interval: Duration,
    pub rows: &'a [Row],
    pub totals: &'a Totals,
    /// The latest events, newest first; `None` when the instance has no `/events`.
    pub events: Option<&'a [EventEntry]>,
    pub link: &'a Link,
    /// Routes the instance did not answer, in a few words each.
    pub notes: &'a [String],
    /// The last reload's result, while it is fresh.
    pub message: Option<&'a str>,
    pub sort: SortBy,
    pub help: bool,
    /// False under `NO_COLOR`: only bold and reverse remain.
    pub color: bool,
}

impl Screen<'_> {
    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::default().fg(color)
        } else {
            Style::default()
        }
    }
}

const KEYS: &str = "q quit  r reload  s sort  ? help";

/// Draws one frame.
pub fn draw(frame: &mut Frame<'_>, screen: &Screen<'_>) {
    let area = frame.area();
    let sessions = screen.rows.iter().any(|r| r.sessions.is_some());
    let plan = plan(
        area.width,
        area.height,
        screen.rows.len(),
        sessions,
        name_width(screen.rows),
    );
    let sparkline_height = if plan.sparklines {
        u16::try_from(screen.rows.len()).unwrap_or(u16::MAX) + 2
    } else {
        0
    };
    let [title, totals, table, sparklines, ticker, _, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(plan.provider_rows + 3),
        Constraint::Length(sparkline_height),
        Constraint::Length(plan.ticker),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_title(frame, title, screen);
    draw_totals(frame, totals, screen);
    draw_table(frame, table, screen, &plan);
    if plan.sparklines {
        draw_sparklines(frame, sparklines, screen, plan.name_width);
    }
    if plan.ticker > 0 {
        draw_ticker(frame, ticker, screen);
    }
    draw_status(frame, status, screen);
    if screen.help {
        draw_help(frame, area);
    }
}

fn draw_title(frame: &mut Frame<'_>, area: Rect, screen: &Screen<'_>) {
    let interval = super::stats::format_interval(screen.interval);
    let line = Line::from(vec![
        Span::styled(
            " claude-lb top ",
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Span::raw(format!(
            " {}  every {interval}  sorted by {}",
            screen.url,
            screen.sort.label()
        )),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_totals(frame: &mut Frame<'_>, area: Rect, screen: &Screen<'_>) {
    let t = screen.totals;
    let rate = t
        .rate
        .map_or_else(|| "-".to_owned(), |r| format!("{r:.1}/s"));
    let cost = t
        .cost_today
        .map_or_else(|| "cost n/a".to_owned(), |c| format!("${c:.2}/24h"));
    let failed_style = if t.failed_requests > 0 {
        screen.fg(Color::Red)
    } else {
        Style::default()
    };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let line = Line::from(vec![
        Span::styled(format!(" {} req", format_count(t.answers)), bold),
        Span::raw(format!(" {rate} │ ")),
        Span::styled(
            format!("failed {}", format_count(t.failed_requests)),
            failed_style,
        ),
        Span::raw(format!(" │ failovers {} │ ", format_count(t.failovers))),
        Span::raw(format!(
            "tokens {} in {} out │ {cost}",
            format_count(t.input_tokens),
            format_count(t.output_tokens)
        )),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn state_cell<'a>(state: &RowState, screen: &Screen<'_>) -> Cell<'a> {
    let style = match state {
        RowState::Available => screen.fg(Color::Green),
        RowState::CoolingDown(_) | RowState::Unusable(_) => {
            screen.fg(Color::Yellow).add_modifier(Modifier::BOLD)
        }
        RowState::Disabled => screen.fg(Color::DarkGray),
        RowState::Other(_) => Style::default(),
    };
    Cell::from(state.label()).style(style)
}

fn cell_for<'a>(column: Column, row: &Row, screen: &Screen<'_>) -> Cell<'a> {
    let dash = || Cell::from("-");
    match column {
        Column::Name => Cell::from(row.name.clone()),
        Column::Kind => Cell::from(row.kind.clone()),
        Column::State => state_cell(&row.state, screen),
        Column::Rate => row
            .rate
            .map_or_else(dash, |r| Cell::from(format!("{r:.1}"))),
        Column::Failures => row.failure_rate.map_or_else(dash, |f| {
            let style = if f >= 0.2 {
                screen.fg(Color::Red)
            } else if f > 0.0 {
                screen.fg(Color::Yellow)
            } else {
                Style::default()
            };
            Cell::from(format!("{:.0}%", f * 100.0)).style(style)
        }),
        Column::P50 => row.p50.map_or_else(dash, |s| Cell::from(format_latency(s))),
        Column::P95 => row.p95.map_or_else(dash, |s| Cell::from(format_latency(s))),
        Column::Cache => row
            .cache_hit
            .map_or_else(dash, |c| Cell::from(format!("{:.0}%", c * 100.0))),
        Column::Sessions => row
            .sessions
            .map_or_else(dash, |n| Cell::from(n.to_string())),
        Column::LastError => match (&row.state, &row.last_error) {
            (RowState::Unusable(why), _) => Cell::from(why.clone()),
            (_, Some(error)) => Cell::from(error.clone()).style(screen.fg(Color::Red)),
            (_, None) => dash(),
        },
    }
}

fn draw_table(frame: &mut Frame<'_>, area: Rect, screen: &Screen<'_>, plan: &Plan) {
    let columns = &plan.columns;
    let shown = usize::from(plan.provider_rows);
    let title = if screen.rows.len() > shown {
        format!(" providers ({shown} of {}) ", screen.rows.len())
    } else {
        " providers ".to_owned()
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let widths: Vec<Constraint> = columns
        .iter()
        .map(|c| match c {
            Column::LastError => Constraint::Min(c.width()),
            Column::Name => Constraint::Length(plan.name_width),
            _ => Constraint::Length(c.width()),
        })
        .collect();
    let header = TableRow::new(columns.iter().map(|c| Cell::from(c.title())))
        .style(Style::default().add_modifier(Modifier::BOLD));
    let rows: Vec<TableRow<'_>> = screen
        .rows
        .iter()
        .take(shown)
        .map(|row| TableRow::new(columns.iter().map(|c| cell_for(*c, row, screen))))
        .collect();
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    if screen.rows.is_empty() {
        let empty = Paragraph::new(" the instance has no providers")
            .block(Block::default().borders(Borders::ALL).title(" providers "));
        frame.render_widget(empty, area);
    } else {
        frame.render_widget(table, area);
    }
}

/// The largest rate drawn at full height: the busiest provider's peak, so that providers can
/// be compared; a tenth of a request per second is the finest step.
fn scaled(rate: f64) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let tenths = (rate.max(0.0) * 10.0).round() as u64;
    tenths
}

fn draw_sparklines(frame: &mut Frame<'_>, area: Rect, screen: &Screen<'_>, name_width: u16) {
    let longest = screen
        .rows
        .iter()
        .map(|r| r.history.len())
        .max()
        .unwrap_or(0);
    let span = screen
        .interval
        .saturating_mul(u32::try_from(longest).unwrap_or(u32::MAX));
    let block = Block::default().borders(Borders::ALL).title(format!(
        " requests/s, last {} ",
        super::stats::format_countdown(span)
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let peak = screen
        .rows
        .iter()
        .flat_map(|r| r.history.iter().copied())
        .map(scaled)
        .max()
        .unwrap_or(0)
        .max(1);
    let label_width = (name_width + 2).min(inner.width / 3);
    for (i, row) in screen.rows.iter().enumerate() {
        let Ok(offset) = u16::try_from(i) else { break };
        if offset >= inner.height {
            break;
        }
        let line = Rect::new(inner.x, inner.y + offset, inner.width, 1);
        let [label, spark] =
            Layout::horizontal([Constraint::Length(label_width), Constraint::Min(0)]).areas(line);
        frame.render_widget(Paragraph::new(format!(" {}", row.name)), label);
        let fits = usize::from(spark.width);
        let tail = &row.history[row.history.len().saturating_sub(fits)..];
        let data: Vec<u64> = tail.iter().copied().map(scaled).collect();
        let style = match row.state {
            RowState::CoolingDown(_) => screen.fg(Color::Yellow),
            _ => screen.fg(Color::Cyan),
        };
        frame.render_widget(
            Sparkline::default().data(&data).max(peak).style(style),
            spark,
        );
    }
}

fn draw_ticker(frame: &mut Frame<'_>, area: Rect, screen: &Screen<'_>) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" latest failovers and errors (UTC) ");
    let lines: Vec<Line<'_>> = match screen.events {
        None => vec![Line::styled(
            " the instance has no /events",
            screen.fg(Color::DarkGray),
        )],
        Some([]) => vec![Line::styled(" none yet", screen.fg(Color::DarkGray))],
        Some(events) => events
            .iter()
            .map(|e| {
                let (what, style) = match e.kind.as_str() {
                    "cooldown" => ("cooldown", screen.fg(Color::Yellow)),
                    "failover" => ("failover", Style::default()),
                    "failed_request" => ("failed request", screen.fg(Color::Red)),
                    other => (other, Style::default()),
                };
                Line::from(vec![
                    Span::raw(format!(" {}  ", clock_utc(e.at_unix_ms))),
                    Span::raw(format!(
                        "{:<14} ",
                        e.provider.as_deref().unwrap_or("(no provider)")
                    )),
                    Span::styled(format!("{what:<14} "), style),
                    Span::raw(e.reason.clone()),
                ])
            })
            .collect(),
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_status(frame: &mut Frame<'_>, area: Rect, screen: &Screen<'_>) {
    let mut spans = vec![match screen.link {
        Link::Starting => Span::raw(" connecting"),
        Link::Connected => Span::styled(" connected", screen.fg(Color::Green)),
        Link::Disconnected(reason) => Span::styled(
            format!(" disconnected, retrying: {reason}"),
            screen.fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
    }];
    if let Some(message) = screen.message {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(
            message.to_owned(),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    }
    for note in screen.notes {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(note.clone(), screen.fg(Color::DarkGray)));
    }
    let status = Line::from(spans);
    // What the instance is doing comes first; the keys only where they fit beside it.
    let keys = u16::try_from(KEYS.len() + 1).unwrap_or(u16::MAX);
    let needed = u16::try_from(status.width())
        .unwrap_or(u16::MAX)
        .saturating_add(keys + 1);
    let keys = if area.width >= needed { keys } else { 0 };
    let [left, right] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(keys)]).areas(area);
    frame.render_widget(Paragraph::new(status), left);
    frame.render_widget(Paragraph::new(KEYS).alignment(Alignment::Right), right);
}

fn draw_help(frame: &mut Frame<'_>, area: Rect) {
    let text = vec![
        Line::raw(" q, Ctrl-C  quit"),
        Line::raw(" r          reload the instance's config"),
        Line::raw(" s          sort: pool order, name, requests/s,"),
        Line::raw("            failure rate, p95 latency"),
        Line::raw(" ?          show or hide this help"),
        Line::raw(""),
        Line::raw(" Rates are per poll; failure rate and"),
        Line::raw(" latency percentiles over the last minute."),
    ];
    let width = 50.min(area.width);
    let height = (u16::try_from(text.len()).unwrap_or(0) + 2).min(area.height);
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(" keys ")),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use tokio::time::Instant;

    use super::super::stats::{Counters, Dashboard, Poll, Scrape};
    use super::*;
    use crate::proxy::admin::ProviderStatus;

    fn status(
        name: &str,
        kind: &str,
        state: &str,
        remaining: f64,
        error: Option<&str>,
    ) -> ProviderStatus {
        ProviderStatus {
            name: name.to_owned(),
            kind: kind.to_owned(),
            enabled: state != "disabled",
            state: state.to_owned(),
            unusable: None,
            cooldown_remaining_s: remaining,
            consecutive_failures: 0,
            requests: 0,
            failures: 0,
            last_error: error.map(str::to_owned),
            latency_ms: None,
            sessions: 0,
            cache_read_tokens: 0,
            cache_creation_tokens: 0,
            uncached_input_tokens: 0,
            last_check: None,
        }
    }

    /// Counters after `n` answers: 60% under 0.5s, the rest under 2.5s.
    fn counters(n: u64, failed: u64) -> Counters {
        Counters {
            answers: n,
            failed_attempts: failed,
            input_tokens: n * 1200,
            output_tokens: n * 300,
            cache_read_tokens: Some(n * 2400),
            buckets: vec![(0.5, n * 6 / 10), (2.5, n), (f64::INFINITY, n)],
            ..Counters::default()
        }
    }

    /// A dashboard fed twenty polls a second apart, with `providers` as the last poll's list.
    fn dashboard(providers: &[ProviderStatus], flaky_fails: bool) -> (Dashboard, Instant) {
        let start = Instant::now();
        let mut d = Dashboard::new();
        for i in 0..20u64 {
            let mut scrape = Scrape {
                failovers: if flaky_fails { i * 2 } else { 0 },
                ..Scrape::default()
            };
            scrape.providers.insert("main".into(), counters(i * 4, 0));
            scrape.providers.insert("backup".into(), counters(i, 0));
            scrape.providers.insert(
                "flaky".into(),
                counters(
                    if flaky_fails { 0 } else { i * 2 },
                    if flaky_fails { i * 2 } else { 0 },
                ),
            );
            d.ingest(
                Poll {
                    providers: providers.to_vec(),
                    metrics: Some(scrape),
                    events: Some(Vec::new()),
                    cost_today: Some(1.234),
                    ..Poll::default()
                },
                start + Duration::from_secs(i),
            );
        }
        (d, start + Duration::from_secs(19))
    }

    fn render(
        d: &Dashboard,
        now: Instant,
        events: Option<&[EventEntry]>,
        notes: &[String],
        size: (u16, u16),
        color: bool,
    ) -> Terminal<TestBackend> {
        let rows = d.rows(now);
        let totals = d.totals();
        let screen = Screen {
            url: "http://127.0.0.1:8080",
            interval: Duration::from_secs(1),
            rows: &rows,
            totals: &totals,
            events,
            link: &d.link,
            notes,
            message: None,
            sort: d.sort,
            help: false,
            color,
        };
        let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
        terminal.draw(|frame| draw(frame, &screen)).unwrap();
        terminal
    }

    fn healthy() -> Vec<ProviderStatus> {
        vec![
            status("main", "anthropic", "available", 0.0, None),
            status("backup", "openai", "available", 0.0, None),
            status("flaky", "anthropic", "available", 0.0, None),
        ]
    }

    #[test]
    fn a_healthy_pool_at_80_by_24() {
        let (d, now) = dashboard(&healthy(), false);
        let terminal = render(
            &d,
            now,
            Some(&[]),
            &["no /usage".to_owned()],
            (80, 24),
            true,
        );
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn a_healthy_pool_at_200_by_50() {
        let (d, now) = dashboard(&healthy(), false);
        let terminal = render(&d, now, Some(&[]), &[], (200, 50), true);
        insta::assert_snapshot!(terminal.backend());
    }

    fn failover_events() -> Vec<EventEntry> {
        let at = 1_700_000_000_000;
        (0..3u64)
            .map(|i| EventEntry {
                at_unix_ms: at - i * 1000,
                provider: Some("flaky".to_owned()),
                kind: if i == 2 { "cooldown" } else { "failover" }.to_owned(),
                reason: "status_529".to_owned(),
            })
            .collect()
    }

    #[test]
    fn a_cooling_provider_counts_down_and_shows_its_failovers() {
        let providers = vec![
            status("main", "anthropic", "available", 0.0, None),
            status("backup", "openai", "available", 0.0, None),
            status(
                "flaky",
                "anthropic",
                "cooling_down",
                42.0,
                Some("HTTP 529 overloaded_error: Overloaded"),
            ),
        ];
        let (d, now) = dashboard(&providers, true);
        let events = failover_events();
        // Two seconds after the last poll, the 42s it reported are 40s.
        let terminal = render(
            &d,
            now + Duration::from_secs(2),
            Some(&events),
            &[],
            (100, 30),
            true,
        );
        let text = terminal.backend().to_string();
        assert!(text.contains("cooling 40s"), "{text}");
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn a_disconnected_instance_says_so_and_keeps_the_last_figures() {
        let (mut d, now) = dashboard(&healthy(), false);
        d.disconnected("connection refused".to_owned());
        let terminal = render(&d, now, None, &[], (80, 24), true);
        let text = terminal.backend().to_string();
        assert!(text.contains("disconnected, retrying"), "{text}");
        insta::assert_snapshot!(terminal.backend());
    }

    #[test]
    fn no_color_draws_without_colour() {
        let providers = vec![
            status("main", "anthropic", "available", 0.0, None),
            status("flaky", "anthropic", "cooling_down", 42.0, Some("HTTP 529")),
        ];
        let (d, now) = dashboard(&providers, true);
        let events = failover_events();
        let colours = |color: bool| {
            let terminal = render(&d, now, Some(&events), &[], (120, 30), color);
            let buffer = terminal.backend().buffer().clone();
            buffer
                .content()
                .iter()
                .filter(|cell| cell.fg != Color::Reset || cell.bg != Color::Reset)
                .count()
        };
        assert!(colours(true) > 0, "with colour, states are coloured");
        assert_eq!(colours(false), 0, "NO_COLOR leaves no colour");
    }

    #[test]
    fn the_help_and_a_tiny_terminal_draw_without_panicking() {
        let (d, now) = dashboard(&healthy(), false);
        for size in [(80, 24), (20, 5), (1, 1)] {
            let rows = d.rows(now);
            let totals = d.totals();
            let screen = Screen {
                url: "http://127.0.0.1:8080",
                interval: Duration::from_secs(1),
                rows: &rows,
                totals: &totals,
                events: None,
                link: &d.link,
                notes: &[],
                message: Some("reloaded: 3 providers"),
                sort: d.sort,
                help: true,
                color: true,
            };
            let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
            terminal.draw(|frame| draw(frame, &screen)).unwrap();
            if size == (80, 24) {
                let text = terminal.backend().to_string();
                assert!(text.contains("s          sort"), "{text}");
                assert!(text.contains("reloaded: 3 providers"), "{text}");
            }
        }
    }
}
