//! Evaluation on word-level spans.
//!
//! * **NER strict**: a predicted entity counts when its start, end and type equal a gold one.
//! * **RE strict**: a predicted triple counts when its relation type and both entities'
//!   boundaries and types equal a gold triple.
//! * **RE PFN-style**: a predicted relation cell `(head_start, tail_start, type)` counts when
//!   it equals a gold cell and a correctly predicted entity (a NER true positive, any type)
//!   starts at each of the two word positions — the measure PFN and MGE report.
//!
//! Every set is de-duplicated per sentence before counting. Scores are micro-averaged over
//! all sentences added to an [`Evaluator`], in percent.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::data::{LabelSchema, Sentence};

/// An entity span: word offsets `start..end` (end exclusive) and an entity type index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub label: usize,
}

/// A relation between two typed spans; `label` is a relation type index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Triple {
    pub head: Span,
    pub tail: Span,
    pub label: usize,
}

/// A relation as the RE table sees it: the word indexes where subject and object start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RelationCell {
    pub head_start: usize,
    pub tail_start: usize,
    pub label: usize,
}

/// What a model predicts (or what is gold) for one sentence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SentencePrediction {
    pub entities: Vec<Span>,
    pub triples: Vec<Triple>,
    pub cells: Vec<RelationCell>,
}

impl SentencePrediction {
    /// The gold spans, triples and relation cells of a sentence. Entities or relations whose
    /// type the schema does not know are skipped, as are relations touching a skipped (or
    /// non-existent) entity.
    pub fn gold(sentence: &Sentence, schema: &LabelSchema) -> Self {
        let spans: Vec<Option<Span>> = sentence
            .entities
            .iter()
            .map(|e| {
                schema.entity_index(&e.label).map(|label| Span {
                    start: e.start,
                    end: e.end,
                    label,
                })
            })
            .collect();
        let mut out = SentencePrediction {
            entities: spans.iter().flatten().copied().collect(),
            ..Default::default()
        };
        for r in &sentence.relations {
            let (Some(label), Some(Some(head)), Some(Some(tail))) = (
                schema.relation_index(&r.label),
                spans.get(r.head),
                spans.get(r.tail),
            ) else {
                continue;
            };
            out.triples.push(Triple {
                head: *head,
                tail: *tail,
                label,
            });
            out.cells.push(RelationCell {
                head_start: head.start,
                tail_start: tail.start,
                label,
            });
        }
        out
    }
}

/// True positives, predictions and gold items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub tp: usize,
    pub pred: usize,
    pub gold: usize,
}

fn percent(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        100.0 * num as f64 / den as f64
    }
}

impl Counts {
    /// Precision in percent; 0 when nothing was predicted.
    pub fn precision(&self) -> f64 {
        percent(self.tp, self.pred)
    }

    /// Recall in percent; 0 when there is no gold item.
    pub fn recall(&self) -> f64 {
        percent(self.tp, self.gold)
    }

    /// F1 in percent (`2·tp / (pred + gold)`, the harmonic mean of P and R); 0 when undefined.
    pub fn f1(&self) -> f64 {
        percent(2 * self.tp, self.pred + self.gold)
    }

    fn add_sets<T: Ord>(&mut self, gold: &BTreeSet<T>, pred: &BTreeSet<T>) {
        self.tp += pred.intersection(gold).count();
        self.pred += pred.len();
        self.gold += gold.len();
    }
}

/// Precision, recall and F1 (percent) with the counts they come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub tp: usize,
    pub pred: usize,
    pub gold: usize,
}

impl From<Counts> for Prf {
    fn from(c: Counts) -> Self {
        Prf {
            precision: c.precision(),
            recall: c.recall(),
            f1: c.f1(),
            tp: c.tp,
            pred: c.pred,
            gold: c.gold,
        }
    }
}

/// All scores of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub ner: Prf,
    pub re_strict: Prf,
    pub re_pfn: Prf,
    /// Strict NER per entity type name.
    pub ner_per_type: BTreeMap<String, Prf>,
    /// Strict RE per relation type name.
    pub re_per_type: BTreeMap<String, Prf>,
}

impl EvalReport {
    /// `(ner.f1 + re_strict.f1) / 2`, the model-selection criterion.
    pub fn mean_f1(&self) -> f64 {
        (self.ner.f1 + self.re_strict.f1) / 2.0
    }
}

/// Accumulates counts over sentences.
#[derive(Debug, Clone, Default)]
pub struct Evaluator {
    entity_types: Vec<String>,
    relation_types: Vec<String>,
    ner: Counts,
    re_strict: Counts,
    re_pfn: Counts,
    ner_per_type: BTreeMap<usize, Counts>,
    re_per_type: BTreeMap<usize, Counts>,
}

fn count_per_type<T: Ord>(
    table: &mut BTreeMap<usize, Counts>,
    gold: &BTreeSet<T>,
    pred: &BTreeSet<T>,
    label: impl Fn(&T) -> usize,
) {
    for item in gold {
        table.entry(label(item)).or_default().gold += 1;
    }
    for item in pred {
        let counts = table.entry(label(item)).or_default();
        counts.pred += 1;
        if gold.contains(item) {
            counts.tp += 1;
        }
    }
}

impl Evaluator {
    /// An empty evaluator; the schema names the per-type tables.
    pub fn new(schema: &LabelSchema) -> Self {
        Evaluator {
            entity_types: schema.entity_types.clone(),
            relation_types: schema.relation_types.clone(),
            ..Default::default()
        }
    }

    /// Adds one sentence: its gold annotation and the prediction.
    pub fn add(&mut self, gold: &SentencePrediction, pred: &SentencePrediction) {
        let gold_entities: BTreeSet<Span> = gold.entities.iter().copied().collect();
        let pred_entities: BTreeSet<Span> = pred.entities.iter().copied().collect();
        self.ner.add_sets(&gold_entities, &pred_entities);
        count_per_type(
            &mut self.ner_per_type,
            &gold_entities,
            &pred_entities,
            |s| s.label,
        );

        let gold_triples: BTreeSet<Triple> = gold.triples.iter().copied().collect();
        let pred_triples: BTreeSet<Triple> = pred.triples.iter().copied().collect();
        self.re_strict.add_sets(&gold_triples, &pred_triples);
        count_per_type(&mut self.re_per_type, &gold_triples, &pred_triples, |t| {
            t.label
        });

        let correct_starts: BTreeSet<usize> = pred_entities
            .intersection(&gold_entities)
            .map(|s| s.start)
            .collect();
        let gold_cells: BTreeSet<RelationCell> = gold.cells.iter().copied().collect();
        let pred_cells: BTreeSet<RelationCell> = pred.cells.iter().copied().collect();
        self.re_pfn.pred += pred_cells.len();
        self.re_pfn.gold += gold_cells.len();
        self.re_pfn.tp += pred_cells
            .iter()
            .filter(|c| {
                gold_cells.contains(c)
                    && correct_starts.contains(&c.head_start)
                    && correct_starts.contains(&c.tail_start)
            })
            .count();
    }

    /// The scores so far. Per-type tables list every schema type (zero counts included) and,
    /// named `#<index>`, any label index outside the schema that was seen.
    pub fn report(&self) -> EvalReport {
        EvalReport {
            ner: self.ner.into(),
            re_strict: self.re_strict.into(),
            re_pfn: self.re_pfn.into(),
            ner_per_type: per_type_table(&self.entity_types, &self.ner_per_type),
            re_per_type: per_type_table(&self.relation_types, &self.re_per_type),
        }
    }
}

fn per_type_table(names: &[String], counts: &BTreeMap<usize, Counts>) -> BTreeMap<String, Prf> {
    let mut table: BTreeMap<String, Prf> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let c = counts.get(&i).copied().unwrap_or_default();
            (name.clone(), c.into())
        })
        .collect();
    for (&i, &c) in counts.range(names.len()..) {
        table.insert(format!("#{i}"), c.into());
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Entity, Relation};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn span(start: usize, end: usize, label: usize) -> Span {
        Span { start, end, label }
    }

    fn triple(head: Span, tail: Span, label: usize) -> Triple {
        Triple { head, tail, label }
    }

    /// A prediction whose cells are derived from its triples, as a decoder would produce.
    fn pred(entities: Vec<Span>, triples: Vec<Triple>) -> SentencePrediction {
        let cells = triples
            .iter()
            .map(|t| RelationCell {
                head_start: t.head.start,
                tail_start: t.tail.start,
                label: t.label,
            })
            .collect();
        SentencePrediction {
            entities,
            triples,
            cells,
        }
    }

    fn schema() -> LabelSchema {
        LabelSchema {
            entity_types: vec!["Loc".into(), "Peop".into()],
            relation_types: vec!["Live_In".into(), "Kill".into()],
            nested_entities: None,
            same_type_overlaps: None,
            hyphens_split: None,
            slashes_split: None,
            titled_names: None,
            capitalized_types: None,
            relation_signatures: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn counts_formulas_and_zero_cases() {
        let c = Counts {
            tp: 2,
            pred: 4,
            gold: 5,
        };
        assert!(close(c.precision(), 50.0));
        assert!(close(c.recall(), 40.0));
        assert!(close(c.f1(), 2.0 * 50.0 * 40.0 / 90.0));
        for c in [
            Counts::default(),
            Counts {
                tp: 0,
                pred: 3,
                gold: 0,
            },
            Counts {
                tp: 0,
                pred: 0,
                gold: 3,
            },
        ] {
            assert_eq!((c.precision(), c.recall(), c.f1()), (0.0, 0.0, 0.0));
        }
    }

    #[test]
    fn gold_from_sentence_skips_unknown_labels() {
        let sentence = Sentence {
            tokens: (0..8).map(|i| i.to_string()).collect(),
            entities: vec![
                Entity {
                    label: "Peop".into(),
                    start: 0,
                    end: 2,
                },
                Entity {
                    label: "Loc".into(),
                    start: 4,
                    end: 6,
                },
                Entity {
                    label: "Misc".into(),
                    start: 6,
                    end: 7,
                },
            ],
            relations: vec![
                Relation {
                    label: "Live_In".into(),
                    head: 0,
                    tail: 1,
                },
                Relation {
                    label: "Live_In".into(),
                    head: 0,
                    tail: 2,
                }, // unknown tail type
                Relation {
                    label: "Work_For".into(),
                    head: 0,
                    tail: 1,
                }, // unknown relation
                Relation {
                    label: "Kill".into(),
                    head: 1,
                    tail: 9,
                }, // dangling
            ],
        };
        let gold = SentencePrediction::gold(&sentence, &schema());
        let (peop, loc) = (span(0, 2, 1), span(4, 6, 0));
        assert_eq!(gold.entities, vec![peop, loc]);
        assert_eq!(gold.triples, vec![triple(peop, loc, 0)]);
        assert_eq!(
            gold.cells,
            vec![RelationCell {
                head_start: 0,
                tail_start: 4,
                label: 0
            }]
        );
    }

    #[test]
    fn strict_and_pfn_differ_on_boundaries_and_types() {
        let (peop, loc) = (span(0, 2, 1), span(4, 6, 0));
        let gold = pred(vec![peop, loc], vec![triple(peop, loc, 0)]);

        // Tail boundary wrong but start right: PFN cell counts only if some correct entity
        // starts at 4 — here none does, so neither counts.
        let short_loc = span(4, 5, 0);
        let p = pred(vec![peop, short_loc], vec![triple(peop, short_loc, 0)]);
        let mut ev = Evaluator::new(&schema());
        ev.add(&gold, &p);
        let r = ev.report();
        assert_eq!((r.ner.tp, r.ner.pred, r.ner.gold), (1, 2, 2));
        assert_eq!((r.re_strict.tp, r.re_pfn.tp), (0, 0));

        // Wrong tail boundary in the triple, but the correct entity is also predicted:
        // PFN counts the cell, strict does not count the triple.
        let p = pred(vec![peop, loc, short_loc], vec![triple(peop, short_loc, 0)]);
        let mut ev = Evaluator::new(&schema());
        ev.add(&gold, &p);
        let r = ev.report();
        assert_eq!((r.ner.tp, r.ner.pred, r.ner.gold), (2, 3, 2));
        assert_eq!(
            (r.re_strict.tp, r.re_strict.pred, r.re_strict.gold),
            (0, 1, 1)
        );
        assert_eq!((r.re_pfn.tp, r.re_pfn.pred, r.re_pfn.gold), (1, 1, 1));
        assert!(close(r.re_pfn.f1, 100.0));
        assert!(close(r.re_strict.f1, 0.0));

        // Wrong entity type on the head: strict fails. PFN needs some correctly predicted
        // entity starting at word 0; a wrong-boundary one does not do, the gold one does.
        let wrong_peop = span(0, 2, 0);
        let p = pred(
            vec![wrong_peop, span(0, 1, 1), loc],
            vec![triple(wrong_peop, loc, 0)],
        );
        let mut ev = Evaluator::new(&schema());
        ev.add(&gold, &p);
        let r = ev.report();
        assert_eq!(r.ner.tp, 1);
        assert_eq!(r.re_strict.tp, 0);
        assert_eq!(r.re_pfn.tp, 0, "no correct entity starts at 0");
        let p = pred(
            vec![wrong_peop, peop, loc],
            vec![triple(wrong_peop, loc, 0)],
        );
        let mut ev = Evaluator::new(&schema());
        ev.add(&gold, &p);
        let r = ev.report();
        assert_eq!((r.re_strict.tp, r.re_pfn.tp), (0, 1));

        // Wrong relation type fails both.
        let p = pred(vec![peop, loc], vec![triple(peop, loc, 1)]);
        let mut ev = Evaluator::new(&schema());
        ev.add(&gold, &p);
        let r = ev.report();
        assert_eq!((r.re_strict.tp, r.re_pfn.tp), (0, 0));
        assert_eq!(r.re_per_type["Kill"].pred, 1);
        assert_eq!(r.re_per_type["Live_In"].gold, 1);
    }

    #[test]
    fn exact_numbers_over_several_sentences() {
        let s = schema();
        let mut ev = Evaluator::new(&s);
        // Sentence 1: gold 2 entities, 1 triple; prediction gets both entities and the triple.
        let (a, b) = (span(0, 1, 1), span(3, 5, 0));
        let g1 = pred(vec![a, b], vec![triple(a, b, 0)]);
        ev.add(&g1, &g1.clone());
        // Sentence 2: gold 3 entities, 2 triples; prediction: 1 correct entity, 1 wrong type,
        // 1 spurious; 1 triple that is wrong (type of head entity).
        let (c, d, e) = (span(0, 2, 1), span(4, 5, 0), span(6, 7, 1));
        let g2 = pred(vec![c, d, e], vec![triple(c, d, 0), triple(e, c, 1)]);
        let c_wrong = span(0, 2, 0);
        let p2 = pred(vec![c_wrong, d, span(8, 9, 1)], vec![triple(c_wrong, d, 0)]);
        ev.add(&g2, &p2);
        // Sentence 3: no gold, one spurious entity.
        ev.add(
            &SentencePrediction::default(),
            &pred(vec![span(1, 2, 0)], vec![]),
        );

        let r = ev.report();
        // NER: tp = 2 + 1 = 3, pred = 2 + 3 + 1 = 6, gold = 2 + 3 = 5.
        assert_eq!((r.ner.tp, r.ner.pred, r.ner.gold), (3, 6, 5));
        assert!(close(r.ner.precision, 50.0));
        assert!(close(r.ner.recall, 60.0));
        assert!(close(r.ner.f1, 600.0 / 11.0));
        // RE strict: tp 1, pred 2, gold 3.
        assert_eq!(
            (r.re_strict.tp, r.re_strict.pred, r.re_strict.gold),
            (1, 2, 3)
        );
        assert!(close(r.re_strict.f1, 40.0));
        // PFN: cell (0, 4, Live_In) is gold, but no correct entity starts at 0 in sentence 2.
        assert_eq!((r.re_pfn.tp, r.re_pfn.pred, r.re_pfn.gold), (1, 2, 3));
        assert!(close(r.mean_f1(), (600.0 / 11.0 + 40.0) / 2.0));

        // Per type, named by the schema.
        let loc = &r.ner_per_type["Loc"];
        assert_eq!((loc.tp, loc.pred, loc.gold), (2, 4, 2)); // b, d correct; c_wrong, (1,2) spurious
        let peop = &r.ner_per_type["Peop"];
        assert_eq!((peop.tp, peop.pred, peop.gold), (1, 2, 3));
        assert!(close(peop.precision, 50.0));
        let live = &r.re_per_type["Live_In"];
        assert_eq!((live.tp, live.pred, live.gold), (1, 2, 2));
        let kill = &r.re_per_type["Kill"];
        assert_eq!((kill.tp, kill.pred, kill.gold), (0, 0, 1));
        assert_eq!((kill.precision, kill.recall, kill.f1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn empty_inputs_give_zero_not_nan() {
        let mut ev = Evaluator::new(&schema());
        let r = ev.report();
        assert_eq!(r.ner.f1, 0.0);
        assert_eq!(r.mean_f1(), 0.0);
        ev.add(
            &SentencePrediction::default(),
            &SentencePrediction::default(),
        );
        let r = ev.report();
        for prf in [&r.ner, &r.re_strict, &r.re_pfn]
            .into_iter()
            .chain(r.ner_per_type.values())
            .chain(r.re_per_type.values())
        {
            assert_eq!((prf.precision, prf.recall, prf.f1), (0.0, 0.0, 0.0));
        }
        assert_eq!(r.ner_per_type.len(), 2);
        assert_eq!(r.re_per_type.len(), 2);
        // Only gold, no prediction: recall 0, precision 0.
        let a = span(0, 1, 0);
        ev.add(
            &pred(vec![a], vec![triple(a, a, 0)]),
            &SentencePrediction::default(),
        );
        let r = ev.report();
        assert_eq!((r.ner.precision, r.ner.recall, r.ner.f1), (0.0, 0.0, 0.0));
        assert_eq!(r.ner.gold, 1);
        assert!(serde_json::to_string(&r)
            .expect("report serializes")
            .contains("\"re_pfn\""));
    }

    #[test]
    fn duplicates_are_not_double_counted() {
        let (a, b) = (span(0, 1, 1), span(2, 3, 0));
        let t = triple(a, b, 0);
        let gold = pred(vec![a, b, a], vec![t, t]);
        let p = pred(vec![a, a, a, b, b], vec![t, t, t]);
        let mut ev = Evaluator::new(&schema());
        ev.add(&gold, &p);
        let r = ev.report();
        assert_eq!((r.ner.tp, r.ner.pred, r.ner.gold), (2, 2, 2));
        assert_eq!(
            (r.re_strict.tp, r.re_strict.pred, r.re_strict.gold),
            (1, 1, 1)
        );
        assert_eq!((r.re_pfn.tp, r.re_pfn.pred, r.re_pfn.gold), (1, 1, 1));
        assert_eq!(r.ner_per_type["Peop"].pred, 1);
        assert!(close(r.ner.f1, 100.0));
    }

    #[test]
    fn labels_outside_schema_get_index_names() {
        let mut ev = Evaluator::default();
        let a = span(0, 1, 3);
        ev.add(&pred(vec![a], vec![]), &pred(vec![a], vec![]));
        let r = ev.report();
        assert_eq!(r.ner_per_type.keys().collect::<Vec<_>>(), vec!["#3"]);
        assert_eq!(r.ner_per_type["#3"].tp, 1);
    }

    #[test]
    fn random_self_evaluation_is_perfect_and_order_free() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut ev = Evaluator::new(&schema());
        let mut shuffled = Evaluator::new(&schema());
        for _ in 0..200 {
            let entities: Vec<Span> = (0..rng.random_range(1..6))
                .map(|_| {
                    let start = rng.random_range(0..10);
                    span(
                        start,
                        start + rng.random_range(1..4),
                        rng.random_range(0..2),
                    )
                })
                .collect();
            let triples: Vec<Triple> = (0..rng.random_range(0..4))
                .map(|_| {
                    let h = entities[rng.random_range(0..entities.len())];
                    let t = entities[rng.random_range(0..entities.len())];
                    triple(h, t, rng.random_range(0..2))
                })
                .collect();
            let gold = pred(entities, triples);
            ev.add(&gold, &gold);
            let mut reordered = gold.clone();
            reordered.entities.reverse();
            reordered.triples.reverse();
            reordered.cells.reverse();
            shuffled.add(&gold, &reordered);
        }
        let r = ev.report();
        for prf in [&r.ner, &r.re_strict, &r.re_pfn] {
            assert!(prf.gold > 0);
            assert!(close(prf.f1, 100.0) && close(prf.precision, 100.0));
        }
        assert_eq!(r, shuffled.report());
    }
}
