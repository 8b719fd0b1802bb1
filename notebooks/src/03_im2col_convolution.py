# %% [markdown]
# # 03 · From a loop convolution to im2col + GEMM
#
# A VGG network spends almost all of its time in 3x3 convolutions. Written as loops, a
# convolution is slow in Python (and not fast in C either); rewritten as **one matrix
# product** (a GEMM), it runs at the speed of the BLAS library. This notebook goes from
# the definition to the fast kernel in `minislim/kernels/`:
#
# 1. the definition, as seven nested loops, and what a convolution does to an image;
# 2. **im2col**: every window becomes one row of a matrix, by a strided view and one copy;
# 3. the convolution as `columns @ filters`;
# 4. TensorFlow's **SAME** padding rule, and why it is asymmetric;
# 5. the loop reference timed against the fast kernel and against the GEMM alone;
# 6. the backward pass, which is a convolution too.
#
# Layout, as in TF-Slim: inputs `[N, H, W, C]`, filters `[KH, KW, C, OC]`, outputs
# `[N, OH, OW, OC]`.

# %%
import time

import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np
from matplotlib.patches import Rectangle

import minislim as slim
from minislim import exercises
from minislim.datasets import cifar10
from minislim.kernels import conv, reference
from minislim.kernels.im2col import im2col, windows
from minislim.kernels.shapes import same_padding

np.set_printoptions(precision=3, suppress=True, linewidth=110)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The definition
#
# Every output pixel `(n, oh, ow)` and output channel `oc` is the dot product of one
# `KH x KW x C` window of the input with one filter:
#
# $$y[n, oh, ow, oc] = \sum_{kh, kw, c} x[n,\; oh \cdot S_H + kh,\; ow \cdot S_W + kw,\; c]\;\; f[kh, kw, c, oc]$$
#
# (deep learning frameworks compute this *cross-correlation* and call it convolution; the
# filter is not flipped). Straight from the formula, for stride 1 and no padding (VALID):

# %%
def conv2d_loops(x, filters):
    """VALID convolution at stride 1: seven nested loops, straight from the definition."""
    N, H, W, C = x.shape
    KH, KW, _, OC = filters.shape
    OH, OW = H - KH + 1, W - KW + 1
    y = np.zeros((N, OH, OW, OC))
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                for oc in range(OC):
                    total = 0.0
                    for kh in range(KH):
                        for kw in range(KW):
                            for c in range(C):
                                total += x[n, oh + kh, ow + kw, c] * filters[kh, kw, c, oc]
                    y[n, oh, ow, oc] = total
    return y


x_small = rng.standard_normal((2, 6, 6, 3))
f_small = rng.standard_normal((3, 3, 3, 4))
y_loops = conv2d_loops(x_small, f_small)
y_fast = slim.nn.conv2d(slim.tensor(x_small), slim.tensor(f_small), padding="VALID").data
print("output shape:", y_loops.shape, "| largest difference to slim.nn.conv2d:", np.abs(y_loops - y_fast).max())

# %% [markdown]
# What a convolution does: with a hand-made filter it is a feature detector. Two Sobel
# filters (one output channel each) respond to vertical and horizontal edges in an image
# from the CIFAR-10 subset embedded in minislim.

# %%
images, labels = cifar10.load(split="test", num_examples=4)
image = images[3].astype(np.float32) / 255                   # [32, 32, 3]
gray = image.mean(axis=-1)[None, :, :, None]                 # [1, 32, 32, 1]
sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
edge_filters = np.stack([sobel_x, sobel_x.T], axis=-1)[:, :, None, :]   # [3, 3, 1, 2]
edges = conv.conv2d(gray, edge_filters, padding="SAME")      # [1, 32, 32, 2]

fig, axes = plt.subplots(1, 3, figsize=(9, 3))
axes[0].imshow(image)
axes[0].set_title(cifar10.class_names()[labels[3]])
axes[1].imshow(np.abs(edges[0, :, :, 0]), cmap="gray")
axes[1].set_title("|vertical edges|")
axes[2].imshow(np.abs(edges[0, :, :, 1]), cmap="gray")
axes[2].set_title("|horizontal edges|")
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 2. im2col: windows become rows
#
# The inner three loops compute a dot product between a window and a filter. If every
# window is laid out as one **row** of a matrix (the *columns* matrix, for historical
# reasons), all the dot products of the layer are a single matrix product.
#
# NumPy can describe the array of all windows *without copying anything*: a view with
# shape `(N, OH, OW, KH, KW, C)` whose strides say "one step in `oh` moves `SH` rows of the
# input, one step in `kh` moves one row". That is `minislim.kernels.im2col.windows`:

# %%
x_demo = np.arange(1.0, 26.0).reshape(1, 5, 5, 1)      # one 5x5 image: the numbers 1..25
view = windows(x_demo, kernel=(3, 3), stride=(1, 1), rate=(1, 1), out_hw=(3, 3))
print("view shape (N, OH, OW, KH, KW, C):", view.shape)
print("strides in bytes:", view.strides, "-> the same memory as the input:", np.shares_memory(view, x_demo))
print("window (0, 1):\n", view[0, 0, 1, :, :, 0])

# %% [markdown]
# `im2col` copies that view into a contiguous buffer (one `np.copyto`, after zero padding
# for SAME). Reshaped to `[N * OH * OW, KH * KW * C]`, each row is one window:

# %%
columns = im2col(x_demo, kernel=(3, 3), stride=(1, 1), rate=(1, 1), pads=((0, 0), (0, 0)), out_hw=(3, 3))
print(columns.reshape(9, 9))

# %% [markdown]
# A picture makes the structure visible. Below, a 5x5 image whose pixel values are their
# own numbers, and its columns matrix for a 3x3 **SAME** convolution (25 output pixels, so
# 25 rows; the zero padding shows as white). Each input pixel appears in up to 9 rows,
# along diagonals: im2col trades memory (`KH * KW` times the input) for one big, regular
# matrix product.

# %%
x_pic = np.arange(1.0, 26.0).reshape(1, 5, 5, 1)
(pads_h, oh), (pads_w, ow) = same_padding(5, 3, 1), same_padding(5, 3, 1)
cols_pic = im2col(x_pic, (3, 3), (1, 1), (1, 1), (pads_h, pads_w), (oh, ow)).reshape(oh * ow, 9)


def show_numbers(ax, values, title, aspect="auto"):
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("white")
    ax.imshow(np.ma.masked_equal(values, 0), cmap=cmap, vmin=1, vmax=25, aspect=aspect)
    for (i, j), v in np.ndenumerate(values):
        if v:
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7, color="white" if v < 14 else "black")
    ax.set_title(title, fontsize=10)


fig, axes = plt.subplots(1, 2, figsize=(9, 6), gridspec_kw={"width_ratios": [1, 1.2]})
show_numbers(axes[0], x_pic[0, :, :, 0], "input 5x5; red: the window of output (1, 1)", aspect="equal")
axes[0].add_patch(Rectangle((-0.5, -0.5), 3, 3, fill=False, ec="red", lw=2))
show_numbers(axes[1], cols_pic, "columns [OH*OW = 25, KH*KW*C = 9]\nred: the row of output (1, 1)")
axes[1].add_patch(Rectangle((-0.5, 6 - 0.5), 9, 1, fill=False, ec="red", lw=2))
axes[1].set_xlabel("tap (kh, kw), row-major")
axes[1].set_ylabel("output pixel oh * 5 + ow")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Exercise: your own im2col
#
# Write `my_im2col(x, kh, kw)` for the simplest case, VALID padding and stride 1: one row
# per output pixel (in the order `n`, then `i`, then `j`), each row the window
# `x[n, i:i+kh, j:j+kw, :]` flattened in `(kh, kw, C)` order, the order of
# `filters.reshape(-1, OC)`. A loop over the `kh * kw` taps, each copying one shifted
# slice of the whole batch, is enough. The checker compares with minislim's kernel and
# recognises the usual wrong orders.

# %%
# include: minislim/exercises/skeletons/im2col.py


im2col_result = exercises.check(my_im2col, "im2col")

# %% [markdown]
# ## 3. The convolution is one matrix product
#
# With `M = N * OH * OW` rows and `K = KH * KW * C` numbers per window, the filters
# reshape (for free) to a `[K, OC]` matrix, and
#
# $$y = \text{columns}_{[M, K]} \; @ \; \text{filters}_{[K, OC]} \quad\text{reshaped to } [N, OH, OW, OC].$$

# %%
x_mid = rng.standard_normal((4, 10, 10, 3)).astype(np.float32)
f_mid = rng.standard_normal((3, 3, 3, 8)).astype(np.float32)
cols = im2col(x_mid, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), (10, 10))
M, K = 4 * 10 * 10, 3 * 3 * 3
y_gemm = (cols.reshape(M, K) @ f_mid.reshape(K, 8)).reshape(4, 10, 10, 8)
print(f"[{M}, {K}] @ [{K}, 8]: largest difference to the kernel:",
      np.abs(y_gemm - conv.conv2d(x_mid, f_mid, padding="SAME")).max())

# The sizes for a layer of the small CIFAR VGG: batch 64, 32x32x32 -> 32, 3x3 SAME
M, K, OC = 64 * 32 * 32, 3 * 3 * 32, 32
print(f"VGG layer: [{M}, {K}] @ [{K}, {OC}] -> columns take {M * K * 4 / 2**20:.0f} MiB in float32")

# %% [markdown]
# ## 4. The SAME rule
#
# `padding="SAME"` promises `OH = ceil(H / SH)` output rows, whatever the kernel, and pads
# just enough zeros to get there (TensorFlow's rule):
#
# ```text
# pad_total = max((OH - 1) * SH + KH - H, 0)
# top = pad_total // 2,   bottom = pad_total - top     # the odd row goes to the bottom
# ```
#
# With stride 1 and a 3x3 kernel that is one row on each side. With stride 2 it depends
# on the parity of `H`:

# %%
print(" H  KH  SH   (top, bottom)  OH")
for H, KH, SH in [(32, 3, 1), (32, 3, 2), (31, 3, 2), (6, 3, 2), (7, 3, 2), (32, 1, 2), (5, 4, 1)]:
    (top, bottom), OH = same_padding(H, KH, SH)
    print(f"{H:2d}  {KH:2d}  {SH:2d}   ({top}, {bottom}){'  <- asymmetric' if top != bottom else '':17s}{OH:3d}")

# %% [markdown]
# For an even input at stride 2, SAME pads **only at the bottom and right**. PyTorch's
# `padding=1` pads both sides, so the windows sit one pixel higher and further left: same
# output shape, different numbers. (Porting weights between the two conventions must take
# this into account.) The picture shows the 3x3 output windows on a 6x6 input for both:

# %%
x6 = rng.standard_normal((1, 6, 6, 1))
f3 = rng.standard_normal((3, 3, 1, 1))
y_same = conv.conv2d(x6, f3, stride=2, padding="SAME")
y_sym = conv.conv2d(x6, f3, stride=2, padding=((1, 1), (1, 1)))
print("shapes:", y_same.shape, y_sym.shape, "| equal values:", np.allclose(y_same, y_sym))

fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, (title, top, bottom) in zip(axes, [("SAME (TF): pads (0, 1)", 0, 1), ("padding=1 (PyTorch): pads (1, 1)", 1, 1)]):
    size = 6 + top + bottom
    grid = np.zeros((size, size))
    grid[top:top + 6, top:top + 6] = 1
    ax.imshow(grid, cmap="Greys", vmin=0, vmax=2.5, extent=(-top - 0.5, 6 + bottom - 0.5, 6 + bottom - 0.5, -top - 0.5))
    for (oh, ow), color in [((0, 0), "red"), ((2, 2), "blue")]:
        ax.add_patch(Rectangle((ow * 2 - top - 0.5, oh * 2 - top - 0.5), 3, 3, fill=False, ec=color, lw=2.5,
                               label=f"window of output ({oh}, {ow})"))
    centres = np.arange(3) * 2 - top + 1
    ax.plot(*np.meshgrid(centres, centres), "k.", ms=8)
    ax.set_title(title, fontsize=10)
    ax.set_xticks(range(-top, 6 + bottom))
    ax.set_yticks(range(-top, 6 + bottom))
axes[0].legend(loc="upper center", bbox_to_anchor=(1.1, -0.08), ncol=2, fontsize=8)
fig.suptitle("6x6 input (grey), stride 2, 3x3 kernel; dots: the centre of each output's window", fontsize=10)
plt.show()

# %% [markdown]
# ## 5. How much faster? Loops, the reference, im2col + GEMM, and the GEMM alone
#
# `minislim.kernels.reference.conv2d` is the slow, obviously-correct kernel the tests
# compare against: one Python loop over output pixels, each a `tensordot` of the windows
# of the whole batch with the filters. The fast kernel is im2col plus one `@`. The floor
# for any im2col design is the matrix product alone. We time each on one layer (the
# seven-loop version only on the tiny input from above) and compare the time per
# multiply-add. Other programs on the machine disturb timings, so we keep the fastest of
# the runs that fit in a fraction of a second.

# %%
def best_time(fn, budget=0.4, min_repeats=3):
    """The fastest of as many runs as fit in `budget` seconds (at least `min_repeats`)."""
    times, spent = [], 0.0
    while len(times) < min_repeats or spent < budget:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return min(times)


N, H, W, C, OC = 8, 16, 16, 32, 32
x_layer = rng.standard_normal((N, H, W, C)).astype(np.float32)
f_layer = rng.standard_normal((3, 3, C, OC)).astype(np.float32)
macs = N * H * W * OC * 3 * 3 * C                                  # multiply-adds of the layer
cols_layer = im2col(x_layer, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), (H, W)).reshape(N * H * W, -1)
w_matrix = f_layer.reshape(-1, OC)

y_ref = reference.conv2d(x_layer, f_layer, padding="SAME")
y_kernel = conv.conv2d(x_layer, f_layer, padding="SAME")
print("reference and fast kernel agree:", np.allclose(y_ref, y_kernel, rtol=1e-4, atol=1e-4))

timings = {  # seconds per multiply-add
    "7 loops (tiny input)": best_time(lambda: conv2d_loops(x_small, f_small), budget=0.1) / y_loops.size / 27,
    "reference (loop over pixels)": best_time(lambda: reference.conv2d(x_layer, f_layer, padding="SAME")) / macs,
    "im2col + GEMM (kernel)": best_time(lambda: conv.conv2d(x_layer, f_layer, padding="SAME")) / macs,
    "GEMM alone (the floor)": best_time(lambda: cols_layer @ w_matrix) / macs,
}
for name, seconds in timings.items():
    print(f"{name:30s} {seconds * 1e9:9.3f} ns per multiply-add")
kernel = timings["im2col + GEMM (kernel)"]
print(f"\nreference / kernel: {timings['reference (loop over pixels)'] / kernel:.0f}x;   "
      f"kernel / GEMM floor: {kernel / timings['GEMM alone (the floor)']:.2f}x")

# %%
fig, ax = plt.subplots(figsize=(7, 2.8))
names = list(timings)
ax.barh(names[::-1], [timings[n] * 1e9 for n in names[::-1]], color=["C2", "C0", "C1", "C3"])
ax.set_xscale("log")
ax.set_xlabel("ns per multiply-add (log scale)")
ax.set_title(f"3x3 SAME convolution, N={N}, {H}x{W}x{C} -> {OC}, float32")
ax.grid(alpha=0.3, axis="x", which="both")
plt.tight_layout()
plt.show()

# %% [markdown]
# The exact ratios depend on the machine and on what else runs on it (`bench/conv.py`
# measures the real VGG layers; docs/benchmarks.md records a run), but the orders of
# magnitude do not: Python loops pay hundreds of nanoseconds per multiply-add; the
# reference pays one Python call and one small product per output pixel; im2col + GEMM
# pays one call per layer and runs within a small factor of the matrix product alone,
# the only part that does arithmetic.

# %% [markdown]
# ## 6. The backward pass is a convolution too
#
# For the filters, the gradient is again a matrix product with the same columns:
# `columns.T @ grad_output`, `[K, M] @ [M, OC]`. For the inputs, every input pixel collects
# `grad_output * filter` from each window it was in; that sum is a convolution of the
# (spread, padded) output gradient with the filters **flipped** in both spatial axes and
# with their channel axes swapped: a *transposed convolution*. Both agree with the loop
# references, and the whole op passes a gradient check:

# %%
grad_out = rng.standard_normal(y_kernel.shape).astype(np.float32)
for name, fast, slow in [
    ("inputs", conv.conv2d_grad_input(grad_out, f_layer, x_layer.shape, padding="SAME"),
     reference.conv2d_grad_input(grad_out, f_layer, x_layer.shape, padding="SAME")),
    ("filters", conv.conv2d_grad_filter(x_layer, grad_out, f_layer.shape, padding="SAME"),
     reference.conv2d_grad_filter(x_layer, grad_out, f_layer.shape, padding="SAME")),
]:
    print(f"gradient of the {name}: shape {fast.shape}, largest difference to the reference "
          f"{np.abs(fast - slow).max() / np.abs(slow).max():.1e} (relative)")

report = slim.testing.gradcheck(lambda x, f: slim.nn.conv2d(x, f, stride=2, padding="SAME"),
                                [rng.standard_normal((2, 5, 6, 2)), rng.standard_normal((3, 3, 2, 3))],
                                names=["inputs", "filters"])
print(report)

# %% [markdown]
# ### Exercise: a convolution layer, forward and backward
#
# Put it together as a `Function` (VALID, stride 1): the forward is your columns times the
# filters reshaped to `[KH*KW*C, OC]`; the backward gives the filters `columns.T @ g` and
# the inputs the gradient of the columns, `g @ w2d.T`, added back into each window's
# place (*col2im*; a pixel in several windows collects from each, so `+=`). The checker
# compares with the loop reference `kernels.reference.conv2d` and with numerical
# gradients.

# %%
# include: minislim/exercises/skeletons/conv2d.py


conv_result = exercises.check(Conv2D, "conv2d")

# %% [markdown]
# ## Takeaways
#
# * A convolution is a dot product per window; im2col lays the windows out as rows (a
#   strided view, then one copy) so that the whole layer is **one GEMM**.
# * SAME padding gives `ceil(H / S)` outputs and puts the odd padding row at the bottom.
# * The loop reference is the specification; the fast kernel is tested against it, and
#   runs within a small factor of the matrix product alone.
#
# Next: **04 · slim layers and arg_scope**, building networks out of these ops.
