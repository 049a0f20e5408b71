//! Classifies every real User-Agent in `user_agents.tsv` and checks it lands in the expected class.

use paybridge_shared::{Environment, Hints, detect};

const CORPUS: &str = include_str!("user_agents.tsv");

/// Classes as the corpus names them: WeCom is split by device.
const CLASSES: &[&str] = &[
    "wechat",
    "wechat_mini_program",
    "wechat_desktop",
    "wecom_mobile",
    "wecom_desktop",
    "alipay",
    "mobile",
    "desktop",
];

struct Row<'a> {
    line: usize,
    expected: &'a str,
    hints: &'a str,
    source: &'a str,
    user_agent: &'a str,
}

fn rows() -> Vec<Row<'static>> {
    CORPUS
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            let mut columns = line.splitn(4, '\t');
            let mut next = || columns.next().unwrap_or_default();
            let row = Row {
                line: index + 1,
                expected: next(),
                hints: next(),
                source: next(),
                user_agent: next(),
            };
            assert!(
                CLASSES.contains(&row.expected),
                "line {}: unknown class {:?}",
                row.line,
                row.expected
            );
            assert!(!row.source.is_empty(), "line {}: no source", row.line);
            assert!(
                !row.user_agent.is_empty(),
                "line {}: no user agent",
                row.line
            );
            row
        })
        .collect()
}

fn parse_hints(line: usize, spec: &str) -> Hints {
    let mut hints = Hints::default();
    if spec == "-" {
        return hints;
    }
    for part in spec.split(';') {
        match part.split_once('=') {
            Some(("wxjs", value)) => hints.wxjs_environment = Some(value.to_owned()),
            Some(("touch", value)) => {
                hints.max_touch_points = Some(
                    value
                        .parse()
                        .unwrap_or_else(|_| panic!("line {line}: bad touch hint {value:?}")),
                );
            }
            _ => panic!("line {line}: bad hint {part:?}"),
        }
    }
    hints
}

fn class_name(environment: Environment) -> &'static str {
    match environment {
        Environment::WeCom { mobile: true } => "wecom_mobile",
        Environment::WeCom { mobile: false } => "wecom_desktop",
        other => other.as_str(),
    }
}

#[test]
fn every_real_user_agent_lands_in_its_class() {
    let rows = rows();
    let mut failures = 0;
    for row in &rows {
        let got = class_name(detect(row.user_agent, &parse_hints(row.line, row.hints)));
        if got != row.expected {
            failures += 1;
            eprintln!(
                "line {}: expected {}, got {} (hints {}, source {})\n    {}",
                row.line, row.expected, got, row.hints, row.source, row.user_agent
            );
        }
    }
    assert_eq!(
        failures,
        0,
        "{failures} of {} user agents misclassified",
        rows.len()
    );
}

#[test]
fn corpus_is_large_and_covers_every_class() {
    let rows = rows();
    assert!(rows.len() >= 100, "only {} rows", rows.len());
    for class in CLASSES {
        let count = rows.iter().filter(|row| row.expected == *class).count();
        assert!(count >= 3, "class {class} has only {count} rows");
    }
    // The same UA with and without hints is fine; the same row twice is not.
    let mut seen = std::collections::HashSet::new();
    for row in &rows {
        assert!(
            seen.insert((row.hints, row.user_agent)),
            "line {}: duplicate row",
            row.line
        );
    }
}
