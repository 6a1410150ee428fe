// Checks hearth-ledger's output with Go's reference implementations:
// golang.org/x/mod/sumdb/note (signed notes) and golang.org/x/mod/sumdb/tlog (RFC 6962
// proofs), plus cosignature/v1 written from the C2SP spec (x/mod 0.7.0 predates it).
// Then signs a checkpoint with note.Signer for the Rust side to verify.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", a...)
	os.Exit(1)
}

func read(dir, name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		fail("%v", err)
	}
	return b
}

func lines(b []byte) []string {
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func hash(s string) tlog.Hash {
	h, err := tlog.ParseHash(s)
	if err != nil {
		fail("hash %q: %v", s, err)
	}
	return h
}

func hashes(ls []string) []tlog.Hash {
	var out []tlog.Hash
	for _, l := range ls {
		if l != "" {
			out = append(out, hash(l))
		}
	}
	return out
}

func atoi(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fail("number %q: %v", s, err)
	}
	return n
}

// checkpoint text: origin, size, root.
func parseCheckpoint(text string) (string, int64, tlog.Hash) {
	l := strings.Split(text, "\n")
	if len(l) < 4 {
		fail("checkpoint too short: %q", text)
	}
	return l[0], atoi(l[1]), hash(l[2])
}

func verifyCosignature(vkey string, text string, sig note.Signature) {
	parts := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		fail("bad cosignature key %q", vkey)
	}
	pub := ed25519.PublicKey(raw[1:])
	id := sha256.Sum256(append(append([]byte(parts[0]), '\n', 0x04), pub...))
	if binary.BigEndian.Uint32(id[:4]) != sig.Hash {
		fail("cosignature key id mismatch")
	}
	if fmt.Sprintf("%08x", sig.Hash) != parts[1] {
		fail("verifier key string id mismatch")
	}
	b, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(b) != 4+8+64 {
		fail("cosignature has %d bytes", len(b))
	}
	ts := binary.BigEndian.Uint64(b[4:12])
	msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
	if !ed25519.Verify(pub, []byte(msg), b[12:]) {
		fail("cosignature does not verify")
	}
	fmt.Printf("go: cosignature/v1 by %s (t=%d) verifies\n", sig.Name, ts)
}

func main() {
	dir := os.Args[1]
	msg := read(dir, "note.txt")
	vkey := strings.TrimSpace(string(read(dir, "vkey.txt")))
	wkey := strings.TrimSpace(string(read(dir, "witness-vkey.txt")))

	v, err := note.NewVerifier(vkey)
	if err != nil {
		fail("note.NewVerifier(%q): %v", vkey, err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open: %v", err)
	}
	if len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 1 {
		fail("want 1 verified + 1 unverified (the cosignature), got %d + %d", len(n.Sigs), len(n.UnverifiedSigs))
	}
	fmt.Printf("go: note.Open verified the log signature by %s\n", n.Sigs[0].Name)
	verifyCosignature(wkey, n.Text, n.UnverifiedSigs[0])

	origin, size, root := parseCheckpoint(n.Text)

	tampered := bytes.Replace(msg, []byte(fmt.Sprintf("\n%d\n", size)), []byte(fmt.Sprintf("\n%d\n", size+1)), 1)
	if bytes.Equal(tampered, msg) {
		fail("tamper did not change the note")
	}
	if _, err := note.Open(tampered, note.VerifierList(v)); err == nil {
		fail("note.Open accepted a tampered checkpoint")
	}
	fmt.Println("go: note.Open rejects the tampered checkpoint")

	inc := lines(read(dir, "inclusion.txt"))
	index, tsize := atoi(inc[0]), atoi(inc[1])
	if tsize != size {
		fail("inclusion proof size %d != checkpoint size %d", tsize, size)
	}
	leaf := tlog.RecordHash(read(dir, "leaf.bin"))
	if err := tlog.CheckRecord(hashes(inc[2:]), size, root, index, leaf); err != nil {
		fail("tlog.CheckRecord: %v", err)
	}
	fmt.Printf("go: tlog.CheckRecord accepts entry %d in %s at size %d\n", index, origin, size)

	con := lines(read(dir, "consistency.txt"))
	oldSize, oldRoot := atoi(con[0]), hash(con[1])
	if err := tlog.CheckTree(hashes(con[2:]), size, root, oldSize, oldRoot); err != nil {
		fail("tlog.CheckTree: %v", err)
	}
	fmt.Printf("go: tlog.CheckTree accepts size %d -> %d\n", oldSize, size)

	// Go signs; Rust verifies (interop_fixture verify-go).
	skey, gvkey, err := note.GenerateKey(nil, "go.example/log")
	if err != nil {
		fail("GenerateKey: %v", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		fail("NewSigner: %v", err)
	}
	text := fmt.Sprintf("go.example/log\n3\n%s\n", root.String())
	out, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		fail("note.Sign: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go-note.txt"), out, 0o644); err != nil {
		fail("%v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go-vkey.txt"), []byte(gvkey), 0o644); err != nil {
		fail("%v", err)
	}
	fmt.Println("go: all checks passed")
}
