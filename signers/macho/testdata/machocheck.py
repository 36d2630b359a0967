#!/usr/bin/env python3
# machocheck.py <thin-macho> <outprefix>
# Independent cross-check (stdlib only): prints each CodeDirectory's slot, version, flags,
# identifier, team and CDHash (sha1/sha256 of the whole CD blob, first 20 bytes as hex), and
# writes <outprefix>.cd<i>.bin and <outprefix>.cms.der for `openssl cms -verify`.
import hashlib, struct, sys
d = open(sys.argv[1], 'rb').read(); out = sys.argv[2]
assert struct.unpack_from('<I', d, 0)[0] == 0xfeedfacf, "not a thin 64-bit little-endian Mach-O"
ncmds = struct.unpack_from('<I', d, 16)[0]; off = 32; sig = None
for _ in range(ncmds):
    cmd, size = struct.unpack_from('<II', d, off)
    if cmd == 0x1d:
        o, n = struct.unpack_from('<II', d, off + 8); sig = d[o:o + n]
    off += size
if sig is None:
    print("unsigned"); sys.exit(0)
_, _, count = struct.unpack_from('>III', sig, 0)
for i in range(count):
    typ, boff = struct.unpack_from('>II', sig, 12 + 8 * i)
    bmagic, blen = struct.unpack_from('>II', sig, boff); blob = sig[boff:boff + blen]
    if bmagic == 0xfade0c02:
        version, flags, hashoff, identoff = struct.unpack_from('>IIII', blob, 8)
        ident = blob[identoff:blob.index(b'\0', identoff)].decode(); team = ''
        if version >= 0x20200 and struct.unpack_from('>I', blob, 48)[0]:
            t = struct.unpack_from('>I', blob, 48)[0]; team = blob[t:blob.index(b'\0', t)].decode()
        h = hashlib.sha1(blob) if blob[37] == 1 else hashlib.sha256(blob)
        print("CD slot %#x ver=%#x flags=%#x ident=%s team=%s cdhash=%s" % (typ, version, flags, ident, team or '-', h.hexdigest()[:40]))
        open("%s.cd%d.bin" % (out, i), 'wb').write(blob)
    elif bmagic == 0xfade0b01 and blen > 8:
        open(out + ".cms.der", 'wb').write(blob[8:])
