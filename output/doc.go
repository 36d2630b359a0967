// Package output writes an output set: policy.json, the vendor files and MANIFEST.sha256, into
// one folder, as one unit. It is what `edrpolicy generate --out` and `edrpolicy export` write,
// and what a program that generates or exports policies with the library writes too.
//
// The steps, in the order a program takes them:
//
//   - CheckDir says whether a folder may receive a set: it refuses a folder holding a
//     policy.json that no manifest there lists (a file this package did not write) and the
//     folder of the previous policy (the baseline the new set is compared with). Its refusals
//     wrap ErrRefused, so a program can offer its own override (the CLI's --force).
//   - WriteSet writes the files (each a File: a plain name and its bytes) and the manifest.
//   - ParseManifest and FormatManifest read and write MANIFEST.sha256, for programs that
//     check a set after the fact (sha256sum -c checks it too).
//
// What WriteSet guarantees:
//
//   - All or nothing. Every file is staged inside the folder, written and fsynced, then
//     renamed into place, MANIFEST.sha256 last: its rename is the commit point. When any step
//     fails, WriteSet returns an error and the folder holds exactly what it held before (the
//     previous set, which sha256sum -c still verifies), with nothing new left behind. A crash
//     in the middle (kill -9, power loss) is undone by the next WriteSet into the folder
//     before it writes.
//   - One run's files. Files the previous manifest listed that this set does not write are
//     removed after the new manifest is in place, so that a job importing everything in the
//     folder never imports a stale file. Files no manifest ever listed are left alone.
//   - Deterministic bytes. The files are written as given; the manifest lists every file
//     with its SHA-256 in sha256sum format, sorted by name. The same files give the same
//     folder, byte for byte.
//   - Names checked first. Every name must be a plain file name (no directory part, no
//     separator, no control character), given once, and not the manifest's; a bad name is
//     refused before anything is written.
//
// The package imports nothing of the policy model (its File is a name and bytes): package
// edrpolicy makes the policy's bytes (Policy.JSON), package exporters the vendor files
// (exporters.Result.Files), and the caller writes both with WriteSet; the report reads a set
// back with ParseManifest.
package output
