// The alert page's delivery table follows the sending: its counts are fetched every two seconds while any is pending.
(function () {
  const table = document.getElementById("progress");
  if (!table) return;
  const pending = () => Array.from(table.querySelectorAll(".pending")).some((cell) => cell.textContent.trim() !== "0");
  async function refresh() {
    try {
      const response = await fetch(table.dataset.statusUrl, { credentials: "same-origin" });
      if (response.ok) {
        const status = await response.json();
        for (const [name, counts] of Object.entries(status.channels)) {
          const row = table.querySelector(`tr[data-channel="${name}"]`);
          if (!row) continue;
          for (const key of ["sent", "failed", "pending"]) row.querySelector(`.${key}`).textContent = counts[key];
        }
      }
    } finally {
      if (pending()) setTimeout(refresh, 2000);
    }
  }
  if (pending()) setTimeout(refresh, 2000);
})();
