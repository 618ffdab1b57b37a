// Roving tabindex: a row of many controls is one Tab stop; arrow keys (and Home, End) move within
// it, and Tab leaves it. Without it Home took 41 presses of Tab to pass two rows of cards
// (issue 13). The control last moved to keeps the Tab stop, so coming back lands there.

const KEYS = {
  ArrowRight: (i) => i + 1,
  ArrowDown: (i) => i + 1,
  ArrowLeft: (i) => i - 1,
  ArrowUp: (i) => i - 1,
  Home: () => 0,
  End: (_i, n) => n - 1,
};

/**
 * Makes the elements matching `selector` inside `container` one Tab stop. Call again after
 * the items change (`refresh`), e.g. when a row appends a chip.
 * @param {HTMLElement} container
 * @param {string} selector
 * @returns {{ refresh: () => void }}
 */
export function rovingFocus(container, selector) {
  const items = () => [...container.querySelectorAll(selector)];

  function refresh() {
    const all = items();
    const current = all.find((item) => item.tabIndex === 0) ?? all[0];
    for (const item of all) item.tabIndex = item === current ? 0 : -1;
  }

  container.addEventListener("keydown", (event) => {
    const move = KEYS[event.key];
    const all = items();
    const index = all.indexOf(document.activeElement);
    if (!move || index < 0 || event.altKey || event.ctrlKey || event.metaKey) return;
    const next = all[Math.min(Math.max(move(index, all.length), 0), all.length - 1)];
    event.preventDefault();
    for (const item of all) item.tabIndex = item === next ? 0 : -1;
    next.focus();
  });
  container.addEventListener("focusin", (event) => {
    const all = items();
    if (!all.includes(event.target)) return;
    for (const item of all) item.tabIndex = item === event.target ? 0 : -1;
  });

  refresh();
  return { refresh };
}
