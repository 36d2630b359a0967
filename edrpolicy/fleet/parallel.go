package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// Parallel decoding of JSON lines: decoding a line with encoding/json costs more than merging
// its row, so lines are decoded by workers, a batch at a time, while the caller merges the
// decoded rows in file order (the merger is not shared). At most inFlight batches exist at
// once, each of at most batchLines lines and about batchBytes bytes (one line over that makes
// its batch as large as the line, within MaxLine): memory stays bounded whatever the file's
// size.
const (
	batchLines = 512
	batchBytes = 1 << 20
)

type lineBatch struct {
	buf   []byte
	ends  []int // end offset of each line in buf
	nums  []int // line numbers
	pre   []error
	elems []element
	errs  []error
	done  chan struct{}
}

func (b *lineBatch) reset() {
	b.buf, b.ends, b.nums, b.pre = b.buf[:0], b.ends[:0], b.nums[:0], b.pre[:0]
	b.done = make(chan struct{})
}

func (b *lineBatch) line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]]
}

// add appends a line (or, with err set, a line that could not be read).
func (b *lineBatch) add(line []byte, n int, err error) {
	b.buf = append(b.buf, line...)
	b.ends = append(b.ends, len(b.buf))
	b.nums = append(b.nums, n)
	b.pre = append(b.pre, err)
}

// decode decodes each line of the batch.
func (b *lineBatch) decode() {
	n := len(b.ends)
	if cap(b.elems) < n {
		b.elems = make([]element, n)
		b.errs = make([]error, n)
	}
	b.elems, b.errs = b.elems[:n], b.errs[:n]
	for i := range n {
		b.elems[i], b.errs[i] = element{}, b.pre[i]
		if b.pre[i] != nil {
			continue
		}
		line := bytes.TrimSpace(b.line(i))
		switch {
		case len(line) == 0:
			b.errs[i] = errBlank
		case line[0] != '{':
			b.errs[i] = fmt.Errorf("%w: a line of JSON lines must be a JSON object, it starts with %q", ErrNotEvidence, preview(line))
		default:
			if err := json.Unmarshal(line, &b.elems[i]); err != nil {
				b.errs[i] = lineJSONError(line, err)
			}
		}
	}
	close(b.done)
}

var errBlank = errors.New("blank line")

// linesParallel is lines with the decoding done by workers.
func (r *reader) linesParallel(lines *lineReader, first []byte, workers int) error {
	free := make(chan *lineBatch, 2*workers+2)
	for range cap(free) {
		free <- &lineBatch{}
	}
	work := make(chan *lineBatch, cap(free))
	order := make(chan *lineBatch, cap(free))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.decode()
			}
		}()
	}
	var readErr error
	go func() {
		defer close(order)
		defer close(work)
		readErr = r.batches(lines, first, free, work, order)
	}()
	for b := range order {
		<-b.done
		for i := range b.ends {
			switch err := b.errs[i]; {
			case err == errBlank:
			case err != nil:
				r.rowErr(b.nums[i], err)
			case b.elems[i].isDocument():
				if err := r.stream(bytes.NewReader(bytes.TrimSpace(b.line(i))), b.nums[i]); err != nil {
					r.addErr(err, b.nums[i])
				}
			default:
				r.emitElement(&b.elems[i], b.nums[i], "")
			}
		}
		free <- b
	}
	wg.Wait()
	return readErr
}

// batches reads lines into batches, handing each to the workers and, in order, to the
// merging loop.
func (r *reader) batches(lines *lineReader, first []byte, free, work, order chan *lineBatch) error {
	b := <-free
	b.reset()
	b.add(first, lines.n, nil)
	send := func() {
		work <- b
		order <- b
		b = <-free
		b.reset()
	}
	for {
		line, err := lines.next()
		switch {
		case err == io.EOF:
			if len(b.ends) > 0 {
				send()
			}
			return nil
		case errors.Is(err, errLineTooLong):
			b.add(nil, lines.n, fmt.Errorf("line longer than %d bytes, skipped", r.opts.MaxLine))
		case err != nil:
			if len(b.ends) > 0 {
				send()
			}
			return &RowError{File: r.src.Name, Line: lines.n, Err: err}
		default:
			b.add(line, lines.n, nil)
		}
		if len(b.ends) >= batchLines || len(b.buf) >= batchBytes {
			send()
		}
	}
}

// decodeWorkers is how many goroutines decode JSON lines besides the one merging: none on a
// single CPU.
func decodeWorkers() int {
	return min(runtime.GOMAXPROCS(0)-1, 4)
}
