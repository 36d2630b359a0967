// Package fleet merges evidence from many hosts into one policy (`edrpolicy generate
// --evidence`) and writes the osquery pack that collects it (`edrpolicy osquery-pack`).
//
// Evidence is `edrpolicy inspect --format json` output of any number of hosts, osqueryd
// result logs (event, snapshot and batch forms), osqueryi --json arrays and Fleet query
// reports. Read sniffs each source's format from its content and hands on its rows one at a
// time; a Merger folds them into per-path sets — for each endpoint path, the SHA-256 digests
// seen and the hosts carrying each, the signature states the hosts report, each host's
// application version — whose size depends on the distinct data, not on the number of rows.
// Generate decides each version enough hosts run with edrpolicy.Decide, whose trust judgement
// stays the only one: osquery's authenticode result and signature columns are the hosts'
// claims, used to find odd hosts, never to grant trust; a signer rule needs an inspect record
// of the same SHA-256 (this run's --root inspection, verified here, or a reference host's
// inspect document, whose judged fields Decide re-judges).
//
// Outliers — a digest, version, signature state or Team ID too few hosts share, a broken
// bundle seal, reference inspections that disagree, hosts of unknown version, files no host
// could hash — are warnings naming the hosts; a digest too few hosts carry gets no rule.
package fleet
