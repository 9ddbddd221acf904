//! The learning curve of a run, as SVG (text drawn by the viewer, so no font library is
//! compiled in).

use std::path::Path;

use plotters::prelude::*;

use crate::train::EpochRecord;
use crate::Result;

/// Dev NER F1, strict RE F1 and PFN-style RE F1 per epoch.
pub fn learning_curve(path: &Path, curve: &[EpochRecord], title: &str) -> Result<()> {
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let epochs = curve.len().max(2) as u32;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{title}: dev F1 per epoch"), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(1u32..epochs, 0f64..100f64)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("F1 (%)")
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    type Series = (&'static str, RGBColor, fn(&EpochRecord) -> f64);
    let series: [Series; 3] = [
        ("NER (strict)", RGBColor(31, 119, 180), |r| r.dev_ner_f1),
        ("RE (strict)", RGBColor(214, 39, 40), |r| r.dev_re_f1),
        ("RE (PFN-style)", RGBColor(44, 160, 44), |r| r.dev_re_pfn_f1),
    ];
    for (name, color, get) in series {
        chart
            .draw_series(LineSeries::new(
                curve.iter().map(|r| (r.epoch as u32, get(r))),
                color.stroke_width(2),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_is_an_svg_with_its_labels_and_three_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curve.svg");
        let curve: Vec<EpochRecord> = (1..=4)
            .map(|epoch| EpochRecord {
                epoch,
                dev_ner_f1: 20.0 * epoch as f64,
                dev_re_f1: 10.0 * epoch as f64,
                dev_re_pfn_f1: 12.0 * epoch as f64,
                ..Default::default()
            })
            .collect();
        learning_curve(&path, &curve, "conll04").unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
        for label in [
            "conll04: dev F1 per epoch",
            "epoch",
            "NER (strict)",
            "RE (PFN-style)",
        ] {
            assert!(svg.contains(label), "no {label:?} in the SVG");
        }
        // One line per series, in its colour.
        for colour in ["#1F77B4", "#D62728", "#2CA02C"] {
            assert!(
                svg.contains(&format!("stroke=\"{colour}\" stroke-width=\"2\"")),
                "no line in {colour}"
            );
        }
    }
}
