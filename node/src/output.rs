//! `out!` and `outln!`: a command's output on standard output (the data a script captures).

/// `print!` for command output.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { print!($($arg)*) };
}

/// `println!` for command output.
#[macro_export]
macro_rules! outln {
    () => { println!() };
    ($($arg:tt)*) => { println!($($arg)*) };
}
