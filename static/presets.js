// The lecture's demos as data: a scene query (values left out take their defaults) and what to watch.
// Learning rates and steps were tuned against POST /api/race so that each story really shows.

export const PRESETS = [
  {
    id: "four-beale",
    title: "Four optimizers on Beale",
    caption: "Same start, four optimizers: Adam arrives first, Momentum swings wide and comes back, SGD crawls along the flat floor; RMSProp arrives but keeps chattering around the minimum with its constant lr.",
    query: "landscape=beale&steps=500&racer=sgd;lr=0.03&racer=momentum;lr=0.003&racer=rmsprop;lr=0.1&racer=adam;lr=0.3",
  },
  {
    id: "gd-lr",
    title: "Gradient descent: the learning rate",
    caption: "Drag lr: below 0.1 SGD crawls, near 1 it glides in, near 2 it zig-zags across the valley, above 2 (= 2 ÷ the steepest curvature) it blows up.",
    query: "landscape=bowl&landscape.condition=10&steps=100&racer=sgd;lr=0.5",
  },
  {
    id: "valley",
    title: "SGD vs Momentum in a narrow valley",
    caption: "An elongated bowl (κ = 100). SGD at lr 1.9, just under its stability limit, zig-zags across the steep walls and then crawls along the flat floor; Momentum swings like a heavy ball but builds speed along the floor and arrives.",
    query: "landscape=bowl&landscape.condition=100&steps=200&racer=sgd;lr=1.9&racer=momentum;lr=0.5",
  },
  {
    id: "four-rosenbrock",
    title: "Four optimizers on Rosenbrock",
    caption: "The banana valley: SGD and Momentum zig-zag across it at first, then everyone crawls along its flat curved floor. Momentum arrives first, Adam second; RMSProp and SGD are still on the way.",
    query: "landscape=rosenbrock&steps=1200&racer=sgd;lr=0.0015&racer=momentum;lr=0.0015&racer=rmsprop;lr=0.003&racer=adam;lr=0.05",
  },
  {
    id: "saddle",
    title: "The saddle point",
    caption: "Start almost on the ridge: SGD slides down into the saddle and stalls where the gradient vanishes; momentum keeps rolling and escapes to a minimum; RMSProp and Adam rescale the tiny gradient and walk off.",
    query: "landscape=saddle&steps=300&racer=sgd;lr=0.01&racer=momentum;lr=0.01&racer=rmsprop;lr=0.01&racer=adam;lr=0.02",
  },
  {
    id: "too-large",
    title: "Learning rate too large",
    caption: "The same lr = 2.1 for SGD and Adam, on a bowl whose steepest curvature is 1: SGD overshoots further every step and diverges (✕ where it leaves the map); Adam's normalized steps stay bounded and it arrives. SGD at lr 1 for reference.",
    query: "landscape=bowl&landscape.condition=10&steps=150&racer=sgd;lr=2.1;label=SGD lr 2.1;color=d55e00&racer=adam;lr=2.1;label=Adam lr 2.1&racer=sgd;lr=1;label=SGD lr 1;color=56b4e9",
  },
  {
    id: "schedules",
    title: "Schedules change the ending",
    caption: "The same RMSProp (lr 0.1) four times: with a constant lr it reaches the minimum and then keeps chattering around it; step decay, cosine and warm-up + cosine shrink the steps at the end and settle. Compare the final losses and the lr curves.",
    query: "landscape=beale&steps=600&racer=rmsprop;lr=0.1;label=constant;color=d55e00&racer=rmsprop;lr=0.1;schedule=step;label=step decay;color=0072b2&racer=rmsprop;lr=0.1;schedule=cosine;label=cosine;color=009e73&racer=rmsprop;lr=0.1;schedule=warmup_cosine;label=warm-up %2B cosine;color=e69f00",
  },
  {
    id: "adamw",
    title: "Adam + L2 vs AdamW",
    caption: "Same weight_decay = 0.1, two ways: Adam + L2 adds λθ to the gradient, so Adam's per-coordinate scaling rescales the decay too; AdamW shrinks θ by lr·λ directly. They end at different points, both pulled off the minimum that plain Adam reaches.",
    query: "landscape=rosenbrock&steps=1500&racer=adam;lr=0.05;label=Adam&racer=adam;lr=0.05;weight_decay=0.1;label=Adam %2B L2&racer=adamw;lr=0.05;weight_decay=0.1;label=AdamW",
  },
  {
    id: "noise",
    title: "Noisy gradients",
    caption: "Mini-batch noise (σ = 0.5): SGD at lr 0.5 gets there first but keeps bouncing in a wide noise ball; at lr 0.05 it is slower and settles about ten times lower; Adam at lr 0.05 ends low too. New seed: another batch order.",
    query: "landscape=bowl&landscape.condition=5&noise=0.5&steps=300&racer=sgd;lr=0.5;label=SGD lr 0.5;color=d55e00&racer=sgd;lr=0.05;label=SGD lr 0.05;color=56b4e9&racer=adam;lr=0.05",
  },
  {
    id: "rotated",
    title: "Rotated valley vs AdaGrad, RMSProp, Adam",
    caption: "The valley turned 45°: per-coordinate step sizes no longer line up with it, so AdaGrad, RMSProp and Adam lose their edge and plain SGD wins. Drag the angle back to 0 and watch them win again.",
    query: "landscape=bowl&landscape.condition=50&landscape.angle=45&steps=200&racer=sgd;lr=1&racer=adagrad;lr=0.5&racer=rmsprop;lr=0.05&racer=adam;lr=0.1",
  },
];
