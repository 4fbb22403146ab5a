// Command testbox is the small tool inside the local cluster's test image: an HTTP server for a
// Deployment behind a Service, and a client that resolves names through the pod's resolv.conf
// (cluster DNS) and fetches a URL. It uses only the standard library and is built static.
//
//	testbox serve [-addr :8080]      answer "hello from <hostname>" on every path
//	testbox get [-tries N] URL       print the body of URL; retry a second apart; exit 1 if it never answers 2xx
//	testbox lookup [-tries N] NAME   print NAME's addresses; exit 1 if it does not resolve
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "get":
		err = get(os.Args[2:])
	case "lookup":
		err = lookup(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbox:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: testbox serve [-addr :8080] | get [-tries N] URL | lookup [-tries N] NAME")
	os.Exit(2)
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", ":8080", "listen address")
	_ = fs.Parse(args)
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Printf("listening on %s\n", *addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Println("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	tries := fs.Int("tries", 1, "attempts, one second apart")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		usage()
	}
	client := &http.Client{Timeout: 5 * time.Second}
	var last error
	for i := 0; i < *tries; i++ {
		if i > 0 {
			time.Sleep(time.Second)
		}
		resp, err := client.Get(fs.Arg(0))
		if err != nil {
			last = err
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		if resp.StatusCode/100 != 2 {
			last = fmt.Errorf("%s: HTTP %d", fs.Arg(0), resp.StatusCode)
			continue
		}
		_, err = os.Stdout.Write(body)
		return err
	}
	return last
}

func lookup(args []string) error {
	fs := flag.NewFlagSet("lookup", flag.ExitOnError)
	tries := fs.Int("tries", 1, "attempts, one second apart")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		usage()
	}
	var last error
	for i := 0; i < *tries; i++ {
		if i > 0 {
			time.Sleep(time.Second)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(ctx, fs.Arg(0))
		cancel()
		if err != nil {
			last = err
			continue
		}
		for _, a := range addrs {
			fmt.Printf("%s %s\n", fs.Arg(0), a)
		}
		return nil
	}
	return last
}
