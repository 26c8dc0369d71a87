// The driver bench/apps times: makeThumbnails6 of the book (section 8.5)
// over the file names given as arguments. Every file gets its own goroutine
// at once, as in the book, so every image is decoded at the same time (this
// is why it peaks near 2 GB on 200 large JPEGs). Prints the total size of
// the thumbnails written.
//
// One addition to the book: image/png is registered too, so that the PNGs of
// the sample set are decoded (the book's package only imports image/jpeg)
// and every tool in bench/apps does the same work.
package main

import (
	"fmt"
	_ "image/png" // register the PNG decoder (not in the book)
	"log"
	"os"
	"sync"
)

// makeThumbnails6 makes thumbnails for each file received from the channel.
// It returns the number of bytes occupied by the files it creates.
func makeThumbnails6(filenames <-chan string) int64 {
	sizes := make(chan int64)
	var wg sync.WaitGroup // number of working goroutines
	for f := range filenames {
		wg.Add(1)
		// worker
		go func(f string) {
			defer wg.Done()
			thumb, err := ImageFile(f)
			if err != nil {
				log.Println(err)
				return
			}
			info, _ := os.Stat(thumb) // OK to ignore error
			sizes <- info.Size()
		}(f)
	}

	// closer
	go func() {
		wg.Wait()
		close(sizes)
	}()

	var total int64
	for size := range sizes {
		total += size
	}
	return total
}

func main() {
	filenames := make(chan string)
	go func() {
		for _, f := range os.Args[1:] {
			filenames <- f
		}
		close(filenames)
	}()
	fmt.Println(makeThumbnails6(filenames))
}
