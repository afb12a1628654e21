/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Threads of the target and the messages between them (issue 11: one poll
 * group per core).
 *
 * A mailbox belongs to one thread's event loop: any thread may send it a
 * message (a function and its argument), the owner runs them in order from
 * a poller of its loop. The queue is a DPDK rte_ring (multi-producer,
 * single-consumer): a sender takes no lock and never blocks. An owner asleep
 * in epoll is woken through an eventfd that a sender writes only when the
 * owner said it was going to sleep, so a busy owner costs its senders no
 * system call.
 *
 * A thread (nvmf_thread_start) is a pthread pinned to one CPU, running an
 * event loop of its own with its own mailbox; every loop call made on it
 * (pollers, timers) works on that loop.
 */
#ifndef TARGET_THREAD_H
#define TARGET_THREAD_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

struct nvmf_tgt;
struct nvmf_mbox;
struct nvmf_thread;

typedef void (*nvmf_msg_fn)(void *arg);

/*
 * A mailbox on the calling thread's loop with room for size - 1 messages
 * (size: a power of two, at least 2). NULL on failure (logged).
 */
struct nvmf_mbox *nvmf_mbox_create(struct nvmf_tgt *tgt, const char *name,
				   unsigned int size);
/* On the owner's thread; messages still queued are dropped. */
void nvmf_mbox_destroy(struct nvmf_tgt *tgt, struct nvmf_mbox *m);
/* From any thread: 0, or -ENOBUFS when the mailbox is full (nothing sent). */
int nvmf_mbox_send(struct nvmf_mbox *m, nvmf_msg_fn fn, void *arg);
/* Run up to max queued messages now, on the owner's thread; returns how many. */
int nvmf_mbox_drain(struct nvmf_mbox *m, int max);

/*
 * Start a thread pinned to cpu (-1: not pinned) with its own loop and
 * mailbox; init(arg) runs on it first (0 or -errno: a failure stops the
 * thread and is returned here). NULL on failure (logged).
 */
struct nvmf_thread *nvmf_thread_start(struct nvmf_tgt *tgt, const char *name, int cpu,
				      int (*init)(void *arg), void *arg);
#define NVMF_MAIN_MBOX_SIZE	65536
/*
 * A thread whose loop fails (nvmf_loop_fail, or epoll itself) takes the
 * target down: the main thread's loop is told (nvmf_tgt_mbox), logs it,
 * sets tgt->failed and stops. Messages to it are dropped from then on.
 */
bool nvmf_thread_alive(const struct nvmf_thread *th);
/* Run fn(arg) on th, in order with th's other messages: 0 or -ENOBUFS. */
int nvmf_thread_send(struct nvmf_thread *th, nvmf_msg_fn fn, void *arg);
/*
 * Run fini(arg) on th (may be NULL), stop its loop and join it. Returns the
 * loop's result: 0, or -errno when the loop itself failed. Messages sent
 * before it run first; nobody may send to th once it is called.
 */
int nvmf_thread_stop(struct nvmf_thread *th, nvmf_msg_fn fini, void *arg);
int nvmf_thread_cpu(const struct nvmf_thread *th);

/*
 * CPU sets as SPDK's -m takes them: a hex mask ("0x3", "3") or a list in
 * brackets ("[0,2-3]"); --cpus takes the list without brackets. 0, or
 * -EINVAL (bad syntax, empty, CPU beyond CPU_SETSIZE).
 */
int nvmf_cpus_parse_mask(const char *s, cpu_set_t *set);
int nvmf_cpus_parse_list(const char *s, cpu_set_t *set);
/*
 * Every CPU of want is in online (a list as in /sys/devices/system/cpu/online)
 * and in allowed (the process's affinity): 0, or -ENODEV with the first CPU
 * that is not in *bad. -EINVAL if online cannot be parsed.
 */
int nvmf_cpus_check(const cpu_set_t *want, const char *online, const cpu_set_t *allowed,
		    int *bad);
/* The set as a hex mask ("0x3") for DPDK's -c. */
void nvmf_cpus_to_mask(const cpu_set_t *set, char *buf, size_t len);

#endif
