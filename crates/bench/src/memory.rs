//! Resident memory from Linux's `/proc/self`: the peak (VmHWM) and the
//! current (VmRSS), and resetting the peak so that one phase can be measured.

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .unwrap_or(0)
}

/// Bytes resident now.
pub fn current_rss() -> u64 {
    status_kib("VmRSS:") * 1024
}

/// The most bytes resident since the start or the last `reset_peak`.
pub fn peak_rss() -> u64 {
    status_kib("VmHWM:") * 1024
}

/// Resets the peak to the current size (writing 5 to clear_refs does that).
pub fn reset_peak() {
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("warning: cannot reset the peak memory counter; the peak includes generation");
    }
}
