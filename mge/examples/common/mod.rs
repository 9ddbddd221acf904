//! What the timing examples share: the median, and their inputs (a bundle's model, the
//! token ids, the rounds).

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
fn read_ids(path: &str) -> Result<Ids, Box<dyn std::error::Error>> {
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

/// The inputs of a timing example: `BUNDLE IDS.json [ROUNDS]` (`usage` when they are
/// missing), the bundle's model loaded.
pub struct Inputs {
    pub model: mge::model::MgeModel,
    pub one: Vec<u32>,
    pub all: Vec<Vec<u32>>,
    pub rounds: usize,
}

pub fn inputs(
    args: &[String],
    usage: &str,
    default_rounds: usize,
) -> Result<Inputs, Box<dyn std::error::Error>> {
    if args.len() < 3 {
        return Err(format!("usage: {usage}").into());
    }
    let bytes = std::fs::read(&args[1])?;
    let (one, all) = read_ids(&args[2])?;
    let rounds = args
        .get(3)
        .map(|r| r.parse::<usize>())
        .transpose()?
        .unwrap_or(default_rounds)
        .max(1);
    let (info, tensors) = mge::bundle::read_bundle(&bytes, &candle_core::Device::Cpu)?;
    let model = mge::model::MgeModel::load(&tensors, &info.config)?;
    Ok(Inputs {
        model,
        one,
        all,
        rounds,
    })
}
