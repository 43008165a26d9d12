// Status and diagnosis fixtures (static text, in English and Chinese).
export function status(trace, uptime) {
  return {
    version: '0.1.0',
    mode: 'live',
    uptime_s: uptime,
    sources: ['trace.json', 'npu_profile/PROF_000001'],
    collectors: [
      { name: 'host', state: 'running', message: '' },
      { name: 'npu', state: 'running', message: '2 devices' },
      { name: 'gpu', state: 'idle', message: 'no CUDA device found' },
    ],
    events: { held: trace.events.length, dropped: 0, capacity: 1000000 },
    skipped: { 'missing ts': 12, 'unknown phase "Z"': 3 },
    clock: [
      { domain: 'tsc', offset_ns: -266149000000000, uncertainty_ns: 20, ns_per_tick: 0.4089 },
      { domain: 'mspti', offset_ns: -1765112344123456789, uncertainty_ns: 310, ns_per_tick: 1 },
    ],
    requests: trace.requests.length,
    steps: trace.stepAgg.length,
    capture: { running: false },
  };
}

export function diagnosis(lang, trace, xss) {
  const zh = lang === 'zh';
  const some = trace.requests[3].id;
  const findings = [
    {
      id: 'dominant-kernel',
      severity: 'warning',
      title: zh ? 'Int4Gemm 占设备时间的 70 %' : 'Int4Gemm takes 70 % of device time',
      evidence: { share: 0.7, total_ns: 3578318819, calls: 25600 },
      cause: zh ? '解码阶段的批量太小，GEMM 受带宽限制。' : 'Decode batches are small, so the GEMMs are bandwidth-bound.',
      suggestion: zh ? '提高最大批量或启用连续批处理。' : 'Raise the maximum batch size or enable continuous batching.',
      saved_ns: 950000000,
      view: { tab: 'flame', search: 'Int4Gemm', request_id: null },
    },
    {
      id: 'host-gap',
      severity: 'critical',
      title: zh ? '每个步骤之间设备空闲 0.2 ms' : 'Devices idle 0.2 ms between steps',
      evidence: { idle_ns: 160000, idle_share: 0.06, steps: trace.stepAgg.length },
      cause: zh ? 'prepare_inputs 在主机上串行执行。' : 'prepare_inputs runs serially on the host before each forward pass.',
      suggestion: zh ? '将输入准备与上一步的前向计算重叠。' : 'Overlap input preparation with the previous forward pass.',
      saved_ns: 64000000,
      view: { tab: 'timeline', search: null, request_id: some },
    },
    {
      id: 'odd-kernel',
      severity: 'info',
      title: zh ? `可疑的内核名 ${xss}` : `Unusual kernel name ${xss}`,
      evidence: { calls: trace.stepAgg.length, mean_ns: 9000 },
      cause: zh ? '名称来自未经处理的追踪输入。' : 'The name comes straight from the trace input.',
      suggestion: zh ? '无需处理；此项检查名称是否按原样显示。' : 'Nothing to do; this finding checks that names display literally.',
      saved_ns: 0,
      view: { tab: 'flame', search: xss, request_id: null },
    },
  ];
  const steps = trace.stepAgg.length;
  return {
    window: { live: true, steps: Math.min(steps, 2000), steps_total: steps, max_steps: 2000, start_ns: null, end_ns: 0 },
    peaks: [
      {
        device: 'NPU 0', model: 'Ascend 910B', source: 'datasheet', method: '',
        bandwidth_gbps: 1600, gflops: 320000, trusted: true,
      },
      {
        device: 'CPU 0', model: 'CPU', source: 'measured',
        method: 'triad over 96 MiB, 2 threads; fp32 FMA avx2+fma, 2 threads; measured on fixture (Test CPU) at 2026-12-08T03:00Z',
        bandwidth_gbps: 29, gflops: 63, trusted: true,
      },
    ],
    findings,
    quiet: [
      {
        id: 'quant-group-size', subject: 'Int4Gemm',
        why: zh ? 'Int4Gemm:group_size 128 不小于 group_size_min(128)' : 'Int4Gemm: group size 128 is at or above group_size_min (128)',
      },
      {
        id: 'small-kv-blocks', subject: 'PagedAttention',
        why: zh ? 'PagedAttention:block_size 16 大于 block_size_max(8)' : 'PagedAttention: block size 16 is above block_size_max (8)',
      },
    ],
  };
}
