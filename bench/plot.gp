# plot.gp - bench/results.png from the medians bench/run computes.
#
#   gnuplot -e "datafile='results.dat'; outfile='results.png'; subtitle='...'" bench/plot.gp
#
# datafile has one line per table row: a quoted label, then for each of
# libcsp, Go, Boost.Fiber and pthreads three columns, median min max ("-" when
# that implementation has no such row). Every figure is lower-is-better, and
# they span six orders of magnitude, so the y axis is logarithmic; the whiskers
# are the min-max of the runs.

if (!exists("datafile")) datafile = 'results.dat'
if (!exists("outfile")) outfile = 'results.png'
if (!exists("subtitle")) subtitle = ''

set terminal pngcairo size 1400,720 font ",10" noenhanced
set output outfile

set title "libcsp benchmarks: median of the runs, whiskers min-max, lower is better\n".subtitle
set datafile missing "-"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 10
set yrange [0.5:*]   # so that a figure of 1 (one thread) still shows a bar
set format y "%g"
set grid ytics mytics
set ylabel "ns per operation, ms, MiB or threads (see the x labels; log scale)"
set xtics nomirror
set key outside right top vertical
set bmargin 5

plot datafile using 2:3:4:xtic(1) title 'libcsp'     lc rgb '#1f77b4', \
     ''       using 5:6:7         title 'Go'         lc rgb '#2ca02c', \
     ''       using 8:9:10        title 'Boost.Fiber' lc rgb '#ff7f0e', \
     ''       using 11:12:13      title 'pthreads'   lc rgb '#7f7f7f'
