//! Where a command's output goes: the terminal, or — when a running node executes a command
//! on behalf of the CLI — a buffer sent back to the caller.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;

thread_local! {
    /// Set while a command runs inside the daemon for a client.
    static CAPTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` with everything written through [`write`] collected; returns it with `f`'s result.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, String) {
    let previous = CAPTURE.with(|c| c.borrow_mut().replace(String::new()));
    let result = f();
    let text = CAPTURE.with(|c| {
        let mut slot = c.borrow_mut();
        let text = slot.take().unwrap_or_default();
        *slot = previous;
        text
    });
    (result, text)
}

/// Whether output is being captured (progress bars and prompts stay off).
pub fn capturing() -> bool {
    CAPTURE.with(|c| c.borrow().is_some())
}

/// Writes command output.
pub fn write(args: fmt::Arguments<'_>) {
    let captured = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(buffer) => {
            let _ = fmt::Write::write_fmt(buffer, args);
            true
        }
        None => false,
    });
    if !captured {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_fmt(args);
    }
}

/// `print!` for command output.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*)) };
}

/// `println!` for command output.
#[macro_export]
macro_rules! outln {
    () => { $crate::output::write(format_args!("\n")) };
    ($($arg:tt)*) => {{
        $crate::output::write(format_args!($($arg)*));
        $crate::output::write(format_args!("\n"));
    }};
}

#[cfg(test)]
mod tests {
    #[test]
    fn capture_collects_and_nests() {
        let ((), outer) = super::capture(|| {
            crate::outln!("a {}", 1);
            let ((), inner) = super::capture(|| crate::out!("b"));
            assert_eq!(inner, "b");
            assert!(super::capturing());
            crate::outln!();
        });
        assert_eq!(outer, "a 1\n\n");
        assert!(!super::capturing());
    }
}
