//! Bounded excerpts of untrusted text for messages: an error or a log line never echoes more
//! than a few dozen characters of an input, with control characters escaped, so that a hostile
//! or mistaken input cannot flood a log, forge log lines, or have a message carry a whole file.

use std::fmt;

/// Characters of an input a message quotes, at most (by default).
pub const EXCERPT_CHARS_MAX: usize = 60;

/// `text` quoted, its control characters escaped, cut after `max_chars` characters with `…`.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    Excerpt::new(text, max_chars).to_string()
}

/// Displays an input as [`excerpt`] does, without allocating first.
#[derive(Debug, Clone, Copy)]
pub struct Excerpt<'a> {
    text: &'a str,
    max_chars: usize,
}

impl<'a> Excerpt<'a> {
    /// An excerpt of at most `max_chars` characters of `text`.
    pub fn new(text: &'a str, max_chars: usize) -> Self {
        Self { text, max_chars }
    }

    /// An excerpt of at most [`EXCERPT_CHARS_MAX`] characters.
    pub fn of(text: &'a str) -> Self {
        Self::new(text, EXCERPT_CHARS_MAX)
    }
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        let mut chars = self.text.chars();
        for c in chars.by_ref().take(self.max_chars) {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")?;
        let rest = chars.count();
        if rest > 0 {
            f.write_str(&crate::tr!(
                "… ({rest} caractères de plus)",
                "… ({rest} more characters)"
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_quoted_whole_and_long_text_is_cut() {
        assert_eq!(excerpt("Marseille", 60), "\"Marseille\"");
        assert_eq!(excerpt("a\"b\nc\u{7}", 60), "\"a\\\"b\\nc\\u{7}\"");
        let long = "x".repeat(1000);
        assert_eq!(
            crate::lang::with(crate::lang::Lang::En, || excerpt(&long, 10)),
            format!("\"{}\"… (990 more characters)", "x".repeat(10))
        );
        assert_eq!(
            crate::lang::with(crate::lang::Lang::Fr, || excerpt(&long, 10)),
            format!("\"{}\"… (990 caractères de plus)", "x".repeat(10))
        );
        assert!(Excerpt::of(&long).to_string().len() < 100);
    }
}
