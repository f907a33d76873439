/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load-loader.c - bench_load's client threads: each loops alloc(B) + free
 * on its own connection, to pagepoold through libpagepool or to the echo
 * floor (echo.h), pinned to one CPU; and the connections themselves,
 * spread evenly over the daemon's workers.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "benchutil.h"
#include "load.h"

static void loader_pair(struct loader *l, uint64_t *mid)
{
	unsigned got = 0;
	int err;

	if (l->e) {
		echo_alloc(l->e, l->batch, l->pfns, &got);
		if (got != l->batch)
			die("echo alloc(0, %u) answered %u pfns", l->batch, got);
		*mid = now_ns();
		echo_free(l->e, l->pfns, got);
		return;
	}
	err = pp_alloc(l->c, 0, l->batch, 0, l->pfns, &got);
	if (err < 0 || got != l->batch)
		die("pp_alloc(0, %u): %s (%s)", l->batch, pp_strerror(err), pp_last_error(l->c));
	*mid = now_ns();
	err = pp_free(l->c, l->pfns, l->batch, NULL);
	if (err < 0)
		die("pp_free(%u): %s (%s)", l->batch, pp_strerror(err), pp_last_error(l->c));
}

static void *loader_main(void *arg)
{
	struct loader *l = arg;
	int measuring = 0;

	pin_self(l->cpu);
	for (;;) {
		int ph = __atomic_load_n(l->phase, __ATOMIC_ACQUIRE);
		uint64_t t_start, t_mid, t_end;

		if (ph == PH_STOP)
			break;
		if (ph == PH_MEASURE && !measuring) {
			measuring = 1;
			l->t0 = l->t1 = now_ns();
		}
		t_start = now_ns();
		loader_pair(l, &t_mid);
		t_end = now_ns();
		if (!measuring)
			continue;
		l->pages += l->batch;
		l->requests += 2;
		l->t1 = t_end;
		if (l->record) {
			samples_push(&l->lat, t_mid - t_start);
			samples_push(&l->lat, t_end - t_mid);
		}
	}
	return NULL;
}

void loader_start(struct loader *l, const int *phase, unsigned batch, int record)
{
	l->phase = phase;
	l->batch = batch;
	l->record = record;
	l->pages = l->requests = l->t0 = l->t1 = 0;
	l->lat.n = 0;
	if (!l->pfns)
		l->pfns = xcalloc(1024 > batch ? 1024 : batch, sizeof(uint32_t));
	if (pthread_create(&l->th, NULL, loader_main, l) != 0)
		die("pthread_create failed");
}

double loader_rate(const struct loader *l, uint64_t count)
{
	return l->t1 > l->t0 ? (double)count * 1e9 / (double)(l->t1 - l->t0) : 0;
}

/* Warm up, measure for len_ns, stop and join n loaders that share *phase.
 * While measuring, `during` (may be NULL) runs on this thread until the
 * deadline it is given; otherwise this thread just sleeps. */
void loaders_run(struct loader *ls, unsigned n, int *phase, uint64_t warm_ns,
		 uint64_t len_ns, void (*during)(void *, uint64_t), void *arg)
{
	uint64_t end;

	sleep_until_ns(now_ns() + warm_ns);
	__atomic_store_n(phase, PH_MEASURE, __ATOMIC_RELEASE);
	end = now_ns() + len_ns;
	if (during)
		during(arg, end);
	sleep_until_ns(end);
	__atomic_store_n(phase, PH_STOP, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < n; i++)
		pthread_join(ls[i].th, NULL);
}

/*
 * Open n connections to pool and check the daemon spread them as evenly as
 * it can over its workers; cpu[i] gets the CPU of connection i's worker.
 * `base` is the number of other connections the daemon holds meanwhile.
 */
void connect_spread(const char *sock, const char *pool, struct admin *a,
		    const struct daemon_view *v, unsigned base, unsigned n,
		    struct pp_client **cs, int *cpu, unsigned *worker)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		unsigned per[MAX_WORKERS] = { 0 }, lo = n / v->nworkers;
		unsigned hi = lo + !!(n % v->nworkers);
		int ok = 1;

		admin_wait_clients(a, base);
		for (unsigned i = 0; i < n; i++) {
			int err = pp_connect(sock, pool, &cs[i]);
			unsigned w;

			if (err < 0)
				die("pp_connect %s pool %s: %s (%s)", sock, pool, pp_strerror(err),
				    pp_last_error(NULL));
			w = pp_info(cs[i])->worker;
			if (w >= v->nworkers)
				die("connection served by worker %u of %u", w, v->nworkers);
			per[w]++;
			cpu[i] = v->cpu[w];
			if (worker)
				worker[i] = w;
		}
		for (unsigned w = 0; w < v->nworkers; w++)
			ok &= per[w] >= lo && per[w] <= hi;
		if (ok)
			return;
		for (unsigned i = 0; i < n; i++)
			pp_close(cs[i]);
	}
	die("could not get %u connections spread over %u workers", n, v->nworkers);
}
