// A plant as a card: its picture (the garden's SVG), stage, state, growth toward the next
// fruit, today's live points and its ripe fruit.
import { h } from "./dom.js";
import { fruitName, indicatorName, number, t } from "./i18n.js";
import { stateBadge } from "./states.js";

const pictures = new Map(); // picture path → {key, url}

/** Load a plant's picture (with the token: an <img> cannot send it) as a blob URL, again
 * only when what it shows changed. */
async function picture(api, path, key) {
  const kept = pictures.get(path);
  if (kept && kept.key === key) return kept.url;
  const blob = await api.get(path);
  const url = URL.createObjectURL(blob);
  if (kept) URL.revokeObjectURL(kept.url);
  pictures.set(path, { key, url });
  return url;
}

export function plantCard(plant, { api, picturePath, fruitAt }) {
  const stage = t(`stage.${plant.stage}`);
  const state = plant.state || "not_rated";
  const alt = t("plant.picture", { indicator: indicatorName(plant.indicator), stage, state: t(`state.${state}`), ripe: plant.ripe_fruit });
  const img = h("img", { class: "plant-picture", alt, width: 200, height: 240 });
  const key = `${plant.stage}/${plant.state}/${plant.ripe_fruit}/${plant.fruit}`;
  picture(api, picturePath, key).then((url) => { img.src = url; }, (error) => {
    img.replaceWith(h("div", { class: "plant-picture missing", role: "img", "aria-label": alt }, "⚠"));
    console.warn("picture:", error.message);
  });
  const left = Math.max(0, fruitAt - plant.growth);
  return h("article", { class: `plant plant-${state}`, dataset: { indicator: plant.indicator, state } },
    img,
    h("div", { class: "plant-facts" },
      h("h3", {}, indicatorName(plant.indicator), " ", h("span", { class: "fruit-kind" }, `· ${fruitName(plant.fruit)}`)),
      stateBadge(plant.state),
      h("p", { class: "plant-stage" }, t("plant.stage", { stage, n: plant.stage })),
      h("label", { class: "growth" },
        h("span", {}, t("plant.growth", { growth: number(plant.growth), fruit_at: number(fruitAt), left: number(left) })),
        h("progress", { max: fruitAt, value: Math.min(plant.growth, fruitAt), "aria-label": t("plant.growth.label") })),
      h("p", { class: "plant-preview" }, plant.preview_points === null
        ? t("plant.preview.none")
        : t("plant.preview", { points: number(plant.preview_points) })),
      h("p", { class: `plant-ripe${plant.ripe_fruit ? " has-ripe" : ""}` }, plant.ripe_fruit
        ? t("plant.ripe", { count: plant.ripe_fruit, fruit: fruitName(plant.fruit) })
        : t("plant.ripe.none"))));
}
