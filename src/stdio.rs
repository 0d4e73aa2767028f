//! Standard output and error for the command line (`--help`, the demo, the
//! simulator's banner). `println!` panics when its reader has gone
//! (`cursor-agent-action --help | head -1`: EPIPE), and the release build
//! aborts on a panic (exit 134). Output nobody reads is simply dropped
//! here, so a closed stdout or stderr ends nothing and prints no panic; the
//! action's own log goes through [`crate::runner::Console`], which drops
//! failed writes the same way. `#![deny(clippy::print_stdout, …)]` in
//! lib.rs keeps the std macros out of the crate.

use std::fmt;
use std::io::Write;

/// Writes to standard output; a failed write (a closed pipe) is dropped.
pub fn write_out(args: fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_fmt(args).and_then(|()| stdout.flush());
}

/// Writes to standard error; a failed write (a closed pipe) is dropped.
pub fn write_err(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// `print!` that survives a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdio::write_out(format_args!($($arg)*)) };
}

/// `println!` that survives a closed stdout.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::stdio::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that survives a closed stderr.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::stdio::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {errln, out, outln};
