# SPDX-License-Identifier: BSD-2-Clause
# plots.gp - PNG plots of the bench-load data files (tests/bench/bench-load.sh).
#
#   gnuplot -e "dir='build/bench'" tests/bench/plots.gp
#
# Reads dir/throughput.dat, dir/drain.dat and dir/storm.dat (the columns are
# described in each file's header) and writes, next to them:
#   throughput.png        pages/s against batch size, pcp on vs off, one
#                         panel per connection count (+ the echo floor)
#   throughput-ratio.png  pcp on / off against batch size, per connection
#                         count, with the 3x aim
#   drain.png             drain time reported by the daemon, p50 and p99, per
#                         mode and condition
#   storm.png             request latency p50 / p99 / p999 per mode: quiet,
#                         null storm (status requests), drain storm

if (!exists("dir")) dir = 'build/bench'
tp = dir.'/throughput.dat'
dr = dir.'/drain.dat'
st = dir.'/storm.dat'

set datafile missing '-'
set terminal png size 1200,900 font ',10'
set grid
set key top left

# ---- throughput: one panel per connection count ----
stats tp using 1 nooutput
nblocks = STATS_blocks
array conns[nblocks]
do for [i=0:nblocks-1] {
	stats tp index i using 1 nooutput
	conns[i + 1] = int(STATS_min)
}
set output dir.'/throughput.png'
set multiplot layout 2,2 title 'pagepoold throughput: pp\_alloc(order 0, B) + pp\_free, 2 workers'
set logscale x 2
set logscale y 10
set format y '%.0s%c'
set xlabel 'batch size B (pages per request)'
set ylabel 'pages / s'
do for [i=0:nblocks-1] {
	set title sprintf('%d connection(s)', conns[i + 1])
	if (conns[i + 1] == 1) {
		plot tp index i using 2:3 with linespoints lw 2 pt 7 title 'pcp on', \
		     tp index i using 2:4 with linespoints lw 2 pt 5 title 'pcp off (pcp\_high = 0)', \
		     tp index i using 2:6 with linespoints lw 1 dt 2 pt 1 title 'floor (echo server)'
	} else {
		plot tp index i using 2:3 with linespoints lw 2 pt 7 title 'pcp on', \
		     tp index i using 2:4 with linespoints lw 2 pt 5 title 'pcp off (pcp\_high = 0)'
	}
}
unset multiplot

# ---- throughput ratio ----
set terminal png size 900,600 font ',10'
set output dir.'/throughput-ratio.png'
unset logscale y
set format y '%g'
set title 'pcp on / pcp off (medians), 2 workers'
set ylabel 'ratio'
set yrange [0:*]
plot for [i=0:nblocks-1] tp index i using 2:5 with linespoints lw 2 \
	title sprintf('%d conn', conns[i + 1]), \
     3 with lines dt 3 lc 'black' title 'aim: 3x'
set autoscale y
unset logscale

# ---- drain time ----
set output dir.'/drain.png'
set terminal png size 1100,600 font ',10'
set title 'drain time reported by the daemon (AdminDrained.usec, whole us; 0 drawn as 0.5)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y
set yrange [0.3:*]
set ylabel 'us (log)'
set xlabel ''
set xtics rotate by -30
set key top left
plot dr using ($4 < 0.5 ? 0.5 : $4):xtic(sprintf('%s %s', strcol(1), strcol(2))) title 'p50', \
     dr using ($6 < 0.5 ? 0.5 : $6) title 'p99'
unset logscale y
set autoscale y
set xtics norotate

# ---- storm latency ----
set output dir.'/storm.png'
set terminal png size 1200,500 font ',10'
set multiplot layout 1,3 title 'saturated clients: request latency, quiet / null storm / drain storm (medians)'
set ylabel 'us'
set yrange [0:*]
set key top left
names = 'p50 p99 p999'
do for [p=1:3] {
	set title word(names, p)
	plot st index 0 using (column(1 + p)):xtic(1) title 'quiet', \
	     st index 0 using (column(4 + p)) title 'null storm', \
	     st index 0 using (column(7 + p)) title 'drain storm'
}
unset multiplot
