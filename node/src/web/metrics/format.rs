//! The two text expositions `/metrics` serves, and which one a scraper gets.
//!
//! `prometheus-client` encodes OpenMetrics 1.0 only. Prometheus scrapes either, but other
//! readers (`promtool check metrics`, older agents, `curl` by hand) expect the Prometheus text
//! format 0.0.4, whose differences are small and mechanical:
//!
//! - a counter's `# HELP` and `# TYPE` name its samples' full name, `_total` included;
//! - there is no `info` type: an info metric is a gauge of value 1 named `…_info`;
//! - no `# UNIT` lines, no `# EOF` terminator, no exemplars;
//! - `unknown` is spelt `untyped`.
//!
//! So the node encodes OpenMetrics once and rewrites it line by line ([`to_prometheus`]) unless
//! the scraper's `Accept` header prefers OpenMetrics ([`Format::negotiate`]), as Prometheus's
//! own does by default.

/// OpenMetrics text, as Prometheus asks for it.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The Prometheus text format, the default.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    Prometheus,
    /// OpenMetrics 1.0 text (`application/openmetrics-text`).
    OpenMetrics,
}

impl Format {
    /// The format for a request's `Accept` header: OpenMetrics only when it is named and
    /// weighted at least as high as `text/plain`; the Prometheus text format otherwise
    /// (no header, `*/*`, `text/plain`, a browser's list).
    pub fn negotiate(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Self::Prometheus;
        };
        let mut openmetrics: f32 = 0.0;
        let mut text: f32 = 0.0;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut q: f32 = 1.0;
            for param in parts {
                if let Some((name, value)) = param.split_once('=')
                    && name.trim().eq_ignore_ascii_case("q")
                {
                    q = value.trim().parse().unwrap_or(0.0);
                }
            }
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(q),
                "text/plain" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Self::OpenMetrics
        } else {
            Self::Prometheus
        }
    }

    /// The `Content-Type` of an exposition in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Prometheus => PROMETHEUS_CONTENT_TYPE,
            Self::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }
}

/// Rewrites an OpenMetrics text exposition (as `prometheus-client` writes it: one `# HELP`
/// and one `# TYPE` line before each family's samples) in the Prometheus text format 0.0.4.
pub fn to_prometheus(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    // The family being written: its samples follow its `# TYPE` line.
    let mut help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            // Held until the TYPE line says what the family's name becomes.
            help = Some(rest.split_once(' ').unwrap_or((rest, "")));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (family, kind) = rest.split_once(' ').unwrap_or((rest, "unknown"));
            let (name, kind) = match kind {
                "counter" => (format!("{family}_total"), "counter"),
                "info" => (format!("{family}_info"), "gauge"),
                "gauge" | "histogram" | "summary" => (family.to_owned(), kind),
                _ => (family.to_owned(), "untyped"),
            };
            if let Some((help_family, text)) = help.take()
                && help_family == family
            {
                out.push_str("# HELP ");
                out.push_str(&name);
                out.push(' ');
                // 0.0.4 escapes only backslashes and line feeds in help text.
                out.push_str(&text.replace('\\', "\\\\"));
                out.push('\n');
            }
            out.push_str("# TYPE ");
            out.push_str(&name);
            out.push(' ');
            out.push_str(kind);
            out.push('\n');
            continue;
        }
        if line.starts_with('#') {
            // `# UNIT`, `# EOF`: OpenMetrics only.
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        // A sample: drop an exemplar (`value # {labels} value`). A label value may hold
        // ` # `, so look after the label set only.
        let after_labels = sample_labels_end(line);
        let sample = match line[after_labels..].find(" # ") {
            Some(at) => &line[..after_labels + at],
            None => line,
        };
        out.push_str(sample);
        out.push('\n');
    }
    out
}

/// Where a sample line's label set ends (just after its `}`), or where its name ends.
fn sample_labels_end(line: &str) -> usize {
    let Some(open) = line.find('{') else {
        return line.find(' ').unwrap_or(line.len());
    };
    let name_end = line.find(' ').unwrap_or(line.len());
    if name_end < open {
        return name_end;
    }
    let mut escaped = false;
    let mut quoted = false;
    for (at, c) in line[open + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '}' if !quoted => return open + 1 + at + 1,
            _ => {}
        }
    }
    line.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_scrapers_get_what_they_ask_for_and_everyone_else_gets_text() {
        // Prometheus 2.x's default `Accept`.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        // Prometheus with `scrape_protocols: [PrometheusText0.0.4]`.
        assert_eq!(
            Format::negotiate(Some("text/plain;version=0.0.4;q=1,*/*;q=0.1")),
            Format::Prometheus
        );
        for accept in [
            None,
            Some("*/*"),
            Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Some("application/openmetrics-text;q=0.2,text/plain"),
            Some("application/openmetrics-text;q=0"),
        ] {
            assert_eq!(Format::negotiate(accept), Format::Prometheus, "{accept:?}");
        }
        assert_eq!(
            Format::negotiate(Some("Application/OpenMetrics-Text; version=1.0.0")),
            Format::OpenMetrics
        );
    }

    #[test]
    fn openmetrics_is_rewritten_in_the_0_0_4_text_format() {
        let openmetrics = "\
# HELP maillage_node This node.
# TYPE maillage_node info
maillage_node_info{node=\"ab\",name=\"Hub # 1 {x}\"} 1
# HELP maillage_events_received Events received.
# TYPE maillage_events_received counter
maillage_events_received_total 12
# HELP maillage_uptime_seconds Time since start \\ here.
# TYPE maillage_uptime_seconds gauge
# UNIT maillage_uptime_seconds seconds
maillage_uptime_seconds 3.5
# HELP t_seconds Latency.
# TYPE t_seconds histogram
# UNIT t_seconds seconds
t_seconds_sum{m=\"a\"} 0.25
t_seconds_count{m=\"a\"} 2
t_seconds_bucket{le=\"+Inf\",m=\"a\"} 2 # {trace=\"x\"} 0.2
# HELP odd Odd.
# TYPE odd unknown
odd 1
# EOF
";
        let text = to_prometheus(openmetrics);
        assert_eq!(
            text,
            "\
# HELP maillage_node_info This node.
# TYPE maillage_node_info gauge
maillage_node_info{node=\"ab\",name=\"Hub # 1 {x}\"} 1
# HELP maillage_events_received_total Events received.
# TYPE maillage_events_received_total counter
maillage_events_received_total 12
# HELP maillage_uptime_seconds Time since start \\\\ here.
# TYPE maillage_uptime_seconds gauge
maillage_uptime_seconds 3.5
# HELP t_seconds Latency.
# TYPE t_seconds histogram
t_seconds_sum{m=\"a\"} 0.25
t_seconds_count{m=\"a\"} 2
t_seconds_bucket{le=\"+Inf\",m=\"a\"} 2
# HELP odd Odd.
# TYPE odd untyped
odd 1
"
        );
    }
}
