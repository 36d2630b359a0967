// Package macho inspects and verifies Apple code signatures: thin and universal Mach-O files
// and macOS bundles (.app, with nested frameworks, helpers, XPC services and plug-ins).
//
// For every slice it reports the architecture, the CodeDirectory (version, flags, hash type,
// signing identifier, Team ID), the CDHash as Apple tools and Santa show it (the CodeDirectory
// blob hashed with its own hash type, truncated to 20 bytes), the CDHashes of alternate
// CodeDirectories, the entitlement keys and the designated requirement.
//
// Verification is done in layers, each of which can make a signature invalid:
//   - the SuperBlob and CodeDirectories are parsed with every offset bounds-checked (a
//     malformed blob is an invalid signature, a malformed Mach-O header an error);
//   - every code page hash of every CodeDirectory is recomputed, for CMS, ad-hoc and
//     linker-signed signatures alike (relic refuses ad-hoc signatures, so this is done here);
//   - special slots are compared with the embedded requirements and entitlements and, when the
//     file sits in its bundle, with Info.plist and _CodeSignature/CodeResources on disk;
//   - a CMS signature (BER or DER) is verified with relic's lib/pkcs7 and lib/pkcs9 (not
//     lib/fruit/csblob, which does not build for every target), including Apple's
//     hash-agility attributes, and its timestamp token; the signer chain is checked against Apple's root
//     CA and Options.Roots and reported apart, as signers.Chain.
//
// A signature that verifies is valid when it carries CMS and adhoc otherwise. The signer is
// classified (developer-id, apple-platform, mac-app-store, other, adhoc, unsigned) from the
// leaf's Apple extensions; that class is a claim, trust comes from Chain.
package macho
