//! Progress reporting: the library says what it is doing; the CLI decides how to show it.

/// Receives progress from long work. Implementations must be cheap: `advance` is called from
/// worker threads for every file.
pub trait Progress: Sync {
    /// A new phase starts; `total` is its amount of work (bytes or items) when known.
    fn phase(&self, name: &str, total: Option<u64>);
    /// `n` more units of the current phase are done.
    fn advance(&self, n: u64);
}

/// Progress that goes nowhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&self, _name: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
}
