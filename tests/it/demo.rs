//! `claude-lb demo`: the real binary, its three simulated providers and its own traffic.

use crate::support::cli::ClaudeLb;

#[test]
fn demo_sends_its_requests_and_summarises_every_provider_and_a_failover() {
    let run = ClaudeLb::new()
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--requests",
            "30",
            "--interval-ms",
            "20",
        ])
        .run();
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let out = &run.stdout;
    let line = out
        .lines()
        .find(|l| l.contains("ANTHROPIC_BASE_URL=http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no Claude Code line:\n{out}"));
    // Without a key of its own Claude Code says `Not logged in`.
    assert!(
        line.contains(" ANTHROPIC_API_KEY=") && line.ends_with(" claude"),
        "{line}"
    );
    assert!(out.contains("/providers"), "no admin URL:\n{out}");
    // Not a terminal: plain lines, one per request, and no cursor movement.
    assert!(
        !out.contains('\x1b'),
        "escape codes in piped output:\n{out}"
    );
    assert_eq!(out.lines().filter(|l| l.starts_with('#')).count(), 30);
    let summary = &out[out.find("Summary:").expect("no summary")..];
    for provider in ["sim_anthropic", "sim_openai", "sim_flaky"] {
        let row = summary
            .lines()
            .find(|l| l.contains(provider))
            .unwrap_or_else(|| panic!("{provider} missing from the summary:\n{summary}"));
        let served: usize = row
            .split(['│', '┆'])
            .nth(3)
            .and_then(|cell| cell.trim().parse().ok())
            .unwrap_or_else(|| panic!("no served count in {row:?}"));
        assert!(served > 0, "{provider} served nothing:\n{summary}");
    }
    assert!(out.contains("after failover"), "no failover shown:\n{out}");
    assert!(
        out.contains("sim_flaky failed: HTTP"),
        "no failure shown:\n{out}"
    );
    assert!(
        summary.contains("30 requests") && summary.contains("0 failed"),
        "{summary}"
    );
    // The summary ends with the demo's usage ledger: every request is a row.
    let ledger = &out[out.find("Usage ledger").expect("no usage table")..];
    let total = ledger
        .lines()
        .find(|l| l.contains("total"))
        .unwrap_or_else(|| panic!("no total row:\n{ledger}"));
    let requests: Vec<&str> = total.split(['│', '┆']).map(str::trim).collect();
    assert_eq!(requests[3], "30", "{ledger}");
    assert!(ledger.contains("sim_openai"), "{ledger}");
}

#[test]
fn demo_refuses_an_address_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let run = ClaudeLb::new()
        .args(["demo", "--listen", &addr, "--requests", "1"])
        .run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!("cannot listen on {addr}")),
        "{}",
        run.stderr
    );
}
