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
    query: "landscape=bowl&landscape.condition=10&steps=100&racer=sgd;lr=0.3",
  },
  {
    id: "valley",
    title: "SGD vs Momentum in a narrow valley",
    caption: "An elongated bowl (κ = 100): SGD zig-zags across the steep walls and crawls along the floor; Momentum cancels the zig-zag and rolls to the minimum.",
    query: "landscape=bowl&landscape.condition=100&steps=200&racer=sgd;lr=1.9&racer=momentum;lr=0.5",
  },
  {
    id: "four-rosenbrock",
    title: "Four optimizers on Rosenbrock",
    caption: "The banana valley: everyone finds the valley fast, then the flat curved floor separates them. Momentum and Adam arrive; SGD and RMSProp are still on the way.",
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
    caption: "The same lr = 2.1 on a bowl whose steepest curvature is 1: SGD overshoots further every step and diverges (✕); Adam's normalized steps stay bounded and it arrives.",
    query: "landscape=bowl&landscape.condition=10&steps=150&racer=sgd;lr=1;label=SGD lr 1&racer=sgd;lr=2.1;label=SGD lr 2.1&racer=adam;lr=2.1;label=Adam lr 2.1",
  },
  {
    id: "schedules",
    title: "Schedules change the ending",
    caption: "Noisy gradients, the same SGD: with a constant lr it keeps jittering around the minimum; step decay, cosine and warm-up + cosine shrink the steps and settle. Compare the final losses.",
    query: "landscape=bowl&landscape.condition=10&noise=0.5&seed=1&steps=400&racer=sgd;lr=0.5;label=constant&racer=sgd;lr=0.5;schedule=step;label=step decay&racer=sgd;lr=0.5;schedule=cosine;label=cosine&racer=sgd;lr=0.5;schedule=warmup_cosine;label=warm-up %2B cosine",
  },
  {
    id: "adamw",
    title: "Adam + L2 vs AdamW",
    caption: "Same weight_decay = 0.1: Adam + L2 adds the decay to the gradient, where Adam's scaling weakens it; AdamW shrinks the weights directly. They stop at different points, both short of the minimum plain Adam reaches.",
    query: "landscape=rosenbrock&steps=800&racer=adam;lr=0.05;label=Adam&racer=adam;lr=0.05;weight_decay=0.1;label=Adam %2B L2&racer=adamw;lr=0.05;weight_decay=0.1;label=AdamW",
  },
  {
    id: "noise",
    title: "Noisy gradients",
    caption: "Mini-batch noise (σ = 1): SGD with a large lr is thrown around near the minimum; Momentum averages the noise out over steps; Adam's step sizes adapt. Change the seed to replay another batch order.",
    query: "landscape=bowl&landscape.condition=20&noise=1&steps=300&racer=sgd;lr=0.3&racer=momentum;lr=0.03&racer=adam;lr=0.1",
  },
  {
    id: "rotated",
    title: "Rotated valley vs AdaGrad, RMSProp, Adam",
    caption: "The valley turned 45°: per-coordinate step sizes no longer line up with it, so AdaGrad, RMSProp and Adam lose their edge and plain SGD wins. Drag the angle back to 0 and watch them win again.",
    query: "landscape=bowl&landscape.condition=50&landscape.angle=45&steps=200&racer=sgd;lr=1&racer=adagrad;lr=0.5&racer=rmsprop;lr=0.05&racer=adam;lr=0.1",
  },
];
