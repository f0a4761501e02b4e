// Each KV head's load, for crystal's budget re-division (src/policies/cpu-chooser.ts loads, for eviction-driver.ts): how
// many of the head's entries at positions >= params.protect_below are live, hit (or written)
// within the last WINDOW steps: stamp[phys] >= params.t - WINDOW (the entries the budget counts:
// every one in `all` mode, the generated ones in `think` mode). Stamps are whole steps: exact.
// Over the logical slots s < headSlots[l, g] of KV head g of layer l, slot s lives at physical
// slot phys = paged_slot(l * TABLE_STRIDE + g * MAX_PAGES, s) (paged-slot.wgsl) and holds an entry
// iff slotPos[phys] >= 0. All layers in one dispatch: the tables are bound whole, with their strides.
// The host joins paged-slot.wgsl (PAGE_SIZE, MAX_PAGES, paged_slot) to this file.
// Dispatch: (KV_HEADS, LAYERS, 1) workgroups of WG threads, one workgroup per (layer, KV head).

struct Params {
  protect_below: u32, // positions below are not counted (the prompt in think mode), else 0
  t: u32,             // the step the decay is taken at
  _pad0: u32,
  _pad1: u32,
}

override KV_HEADS: u32;
override TABLE_STRIDE: u32; // u32s between layers in blockTable
override SLOTS_STRIDE: u32; // u32s between layers in headSlots
override WINDOW: u32;        // R: the re-division period
override WG: u32 = 64;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> slotPos: array<i32>;         // (numSlots) absolute position, -1 if empty
@group(0) @binding(2) var<storage, read> blockTable: array<u32>;      // (layers, TABLE_STRIDE): (KV_HEADS, MAX_PAGES) page ids each
@group(0) @binding(3) var<storage, read> headSlots: array<u32>;       // (layers, SLOTS_STRIDE): (KV_HEADS) logical slots in use each
@group(0) @binding(4) var<storage, read> stamp: array<f32>;           // (numSlots) step of the last hit
@group(0) @binding(5) var<storage, read_write> loads: array<f32>;     // (layers, KV_HEADS) live entries

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;
  let l = wid.y;
  let table = l * TABLE_STRIDE + g * MAX_PAGES;
  let n = min(headSlots[l * SLOTS_STRIDE + g], MAX_PAGES * PAGE_SIZE);
  let protect = i32(params.protect_below);
  var sum = 0.0;
  for (var s = lid; s < n; s += WG) {
    let phys = paged_slot(table, s);
    let pos = slotPos[phys];
    // An empty slot (-1) is below any protect_below >= 0.
    if (pos >= protect && stamp[phys] >= f32(i32(params.t) - i32(WINDOW))) {
      sum += 1.0;
    }
  }
  red[lid] = sum;
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var i = 0u; i < WG; i++) {
      total += red[i];
    }
    loads[l * KV_HEADS + g] = total;
  }
}
