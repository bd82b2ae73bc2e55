// chart-oracle answers "what does helm read from this .tgz?" with helm's own code: it reads archives on
// stdin, one base64 line each, and writes one JSON line per archive on stdout with
//   - tar: the headers Go's archive/tar returns (gzip + tar.Reader.Next until io.EOF), or tarError;
//   - files: the files helm.sh/helm/v3 v3.19.5 pkg/chart/loader.LoadArchiveFiles keeps (name, sha256 of
//     the data, BOM already trimmed by helm), or filesError;
//   - archives: for every kept file whose name ends in ".tgz", the same answer for its bytes (helm loads
//     charts/<x>.tgz as a subchart with LoadArchive);
//   - chart: loader.LoadArchive's result (name, version), or chartError.
// Built by scripts/testbin.sh; used by test/integration/scan/archive-oracle.test.ts.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"helm.sh/helm/v3/pkg/chart/loader"
)

const maxDepth = 8

type tarEntry struct {
	Name     string `json:"name"`
	Typeflag string `json:"type"`
	Size     int64  `json:"size"`
}

type file struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	// ValidUTF8 is false when the name's bytes are not UTF-8 (JSON shows them replaced).
	ValidUTF8 bool `json:"validUtf8"`
}

type chartInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type answer struct {
	Tar        []tarEntry         `json:"tar"`
	TarError   string             `json:"tarError,omitempty"`
	Files      []file             `json:"files"`
	FilesError string             `json:"filesError,omitempty"`
	Archives   map[string]*answer `json:"archives,omitempty"`
	Chart      *chartInfo         `json:"chart,omitempty"`
	ChartError string             `json:"chartError,omitempty"`
}

// guard turns a panic in helm's or Go's code into an error: the oracle must answer every archive.
func guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("panic: %v", r)
	}
}

func readTar(data []byte) (entries []tarEntry, err error) {
	defer guard(&err)
	entries = []tarEntry{}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return entries, err
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			return entries, err
		}
		entries = append(entries, tarEntry{Name: hdr.Name, Typeflag: string([]byte{hdr.Typeflag}), Size: hdr.Size})
	}
}

func loadFiles(data []byte) (files []*loader.BufferedFile, err error) {
	defer guard(&err)
	return loader.LoadArchiveFiles(bytes.NewReader(data))
}

func loadChart(data []byte) (info *chartInfo, err error) {
	defer guard(&err)
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return &chartInfo{Name: c.Metadata.Name, Version: c.Metadata.Version}, nil
}

func examine(data []byte, depth int) *answer {
	a := &answer{Files: []file{}}
	var err error
	if a.Tar, err = readTar(data); err != nil {
		a.TarError = err.Error()
	}
	files, err := loadFiles(data)
	if err != nil {
		a.FilesError = err.Error()
	}
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		a.Files = append(a.Files, file{Name: f.Name, SHA256: hex.EncodeToString(sum[:]), ValidUTF8: utf8.ValidString(f.Name)})
		if strings.HasSuffix(f.Name, ".tgz") && depth < maxDepth {
			if a.Archives == nil {
				a.Archives = map[string]*answer{}
			}
			a.Archives[f.Name] = examine(f.Data, depth+1)
		}
	}
	if a.Chart, err = loadChart(data); err != nil {
		a.ChartError = err.Error()
	}
	return a
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for {
		line, err := in.ReadString('\n')
		if line = strings.TrimSpace(line); line != "" {
			data, decErr := base64.StdEncoding.DecodeString(line)
			if decErr != nil {
				fmt.Fprintln(os.Stderr, "chart-oracle: a line is not base64:", decErr)
				os.Exit(2)
			}
			if encErr := enc.Encode(examine(data, 0)); encErr != nil {
				fmt.Fprintln(os.Stderr, "chart-oracle:", encErr)
				os.Exit(2)
			}
		}
		if err != nil {
			return
		}
	}
}
