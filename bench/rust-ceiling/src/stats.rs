//! Percentiles over sorted samples (nearest-rank, the same rule as sdk-bench.mjs).

pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
  if sorted.is_empty() {
    return None;
  }
  let idx = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
  Some(sorted[idx.saturating_sub(1).min(sorted.len() - 1)])
}

/// Sorts in place and returns (p50, p99).
pub fn p50_p99(samples: &mut [f64]) -> (Option<f64>, Option<f64>) {
  samples.sort_by(f64::total_cmp);
  (percentile(samples, 50.0), percentile(samples, 99.0))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn nearest_rank() {
    let v: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(percentile(&v, 50.0), Some(50.0));
    assert_eq!(percentile(&v, 99.0), Some(99.0));
    assert_eq!(percentile(&[], 50.0), None);
  }
}
