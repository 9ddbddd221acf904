//! What the timing examples share: the median, and the token ids they read.

/// The median of some timings (NaN for none).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One sequence of token ids, and a set of them.
pub type Ids = (Vec<u32>, Vec<Vec<u32>>);

/// `IDS.json`: `{"one": [ids…], "all": [[ids…], …]}` (with `[CLS]` and `[SEP]`).
pub fn read_ids(path: &str) -> Result<Ids, Box<dyn std::error::Error>> {
    let ids: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let seq = |v: &serde_json::Value| -> Option<Vec<u32>> {
        v.as_array()?
            .iter()
            .map(|x| x.as_u64().and_then(|x| u32::try_from(x).ok()))
            .collect()
    };
    let one = ids
        .get("one")
        .and_then(seq)
        .ok_or("IDS.json: no `one` sequence")?;
    let all = ids
        .get("all")
        .and_then(|a| a.as_array())
        .ok_or("IDS.json: no `all` list")?
        .iter()
        .map(seq)
        .collect::<Option<_>>()
        .ok_or("IDS.json: `all` holds something that is not a list of token ids")?;
    Ok((one, all))
}
