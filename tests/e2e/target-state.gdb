# gdb -p PID -batch -x tests/e2e/target-state.gdb: where the target's poll groups stand
# (buffers, queues, requests inside the core) when an e2e test fails.
python
def tailq(head, field):
    e = head['tqh_first']
    while int(e) != 0:
        yield e
        e = e[field]['tqe_next']

for t in gdb.selected_inferior().threads():
    if not (t.name or '').startswith('nvmf_pg'):
        continue
    t.switch()
    f = gdb.newest_frame()
    while f is not None and f.name() != 'thread_main':
        f = f.older()
    if f is None:
        continue
    f.select()
    g = gdb.parse_and_eval('(struct nvmf_rdma_group *)((struct nvmf_thread *)arg)->arg')
    print('group %d: pool %d/%d free, waiting %s' % (int(g['idx']), int(g['pool']['nfree']),
          int(g['pool']['count']), 'no' if int(g['pool']['waiting']['tqh_first']) == 0 else 'YES'))
    for dev in tailq(g['devices'], 'link'):
        for c in tailq(dev['conns'], 'link'):
            qp = c['qp']
            nfree = sum(1 for _ in tailq(qp['free_reqs'], 'link'))
            print('  qid %d qpn 0x%x: depth %d free %d executing %d forwarded %d dying %d '
                  'outstanding %d subsys %s' % (int(qp['qpair']['qid']), int(c['qp_num']),
                  int(qp['depth']), nfree, int(qp['executing']), int(c['forwarded']),
                  int(qp['dying']), int(qp['qpair']['outstanding']),
                  'yes' if int(qp['qpair']['io_subsys']) else 'no'))
end
