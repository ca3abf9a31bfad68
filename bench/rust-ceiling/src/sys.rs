//! Process figures from the kernel: CPU time and peak RSS of this process, resident memory of
//! another process, and the open-file limit.

use std::io;

/// (user + system CPU milliseconds, peak RSS MiB) of this process so far.
pub fn self_usage() -> (f64, f64) {
  // SAFETY: getrusage only writes into the zeroed struct we pass.
  let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
  unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
  let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
  (
    ms(ru.ru_utime) + ms(ru.ru_stime),
    ru.ru_maxrss as f64 / 1024.0,
  )
}

/// Memory figures of a process from /proc/<pid>/status, in KiB.
#[derive(Debug, Clone, Copy)]
pub struct ProcMemory {
  pub rss_kib: u64,
  pub peak_rss_kib: u64,
}

pub fn proc_memory(pid: u32) -> io::Result<ProcMemory> {
  let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
  let field = |name: &str| {
    status
      .lines()
      .find_map(|l| l.strip_prefix(name))
      .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
      .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("no {name} in status")))
  };
  Ok(ProcMemory {
    rss_kib: field("VmRSS:")?,
    peak_rss_kib: field("VmHWM:")?,
  })
}

/// Raises the soft open-file limit to the hard limit (10,000 sockets need more than the usual
/// 1,024) and returns the new soft limit.
pub fn raise_nofile_limit() -> u64 {
  // SAFETY: plain rlimit calls on a struct we own.
  unsafe {
    let mut lim: libc::rlimit = std::mem::zeroed();
    if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
      return 0;
    }
    if lim.rlim_cur < lim.rlim_max {
      lim.rlim_cur = lim.rlim_max;
      libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
      libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    lim.rlim_cur
  }
}
