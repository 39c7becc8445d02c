//! How headroom's own output fits where it goes: colour and width decided per stream (the table of
//! `wrap` goes to stderr, that of `report` to stdout), so a pipe or a file never gets escape
//! codes because the other stream is a terminal.

use std::io::IsTerminal;

use crate::cli::ColorChoice;

/// One of headroom's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What a renderer may do on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// Colour and box drawing.
    pub color: bool,
    /// The terminal's width, when the stream is a terminal.
    pub width: Option<u16>,
}

impl Stream {
    /// Colour by `--color`, else by the conventions `anstream` follows (NO_COLOR, CLICOLOR,
    /// CLICOLOR_FORCE, TERM=dumb, whether the stream is a terminal); width from the terminal.
    pub fn fit(self, choice: ColorChoice) -> Fit {
        let (auto, is_terminal, size) = match self {
            Stream::Stdout => (
                anstream::AutoStream::choice(&std::io::stdout()),
                std::io::stdout().is_terminal(),
                terminal_size::terminal_size_of(std::io::stdout()),
            ),
            Stream::Stderr => (
                anstream::AutoStream::choice(&std::io::stderr()),
                std::io::stderr().is_terminal(),
                terminal_size::terminal_size_of(std::io::stderr()),
            ),
        };
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => auto != anstream::ColorChoice::Never,
        };
        Fit {
            color,
            width: size
                .filter(|_| is_terminal)
                .map(|(terminal_size::Width(width), _)| width),
        }
    }
}
