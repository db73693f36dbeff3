/** A line chart of a few daily series (visx: d3 scales, grid and line shapes as React SVG), with
 * the same figures as a table beside it for screen readers and anyone who prefers numbers. */
import { useEffect, useRef, useState } from 'react';
import { curveMonotoneX } from '@visx/curve';
import { GridRows } from '@visx/grid';
import { Group } from '@visx/group';
import { scaleLinear, scalePoint } from '@visx/scale';
import { LinePath } from '@visx/shape';

import { useI18n } from '@nudges/shared/i18n';

export interface Series {
  key: string;
  label: string;
  color: string;
  dash?: string;
  values: number[];
}

const HEIGHT = 240;
const MARGIN = { top: 12, right: 28, bottom: 28, left: 48 };
const TICK = { fill: '#4a5361', fontSize: 12 };
/** Room one date label needs on the x axis. */
const TICK_WIDTH = 64;

/** The width of the element `ref` points at, following its resizes. */
function useWidth<E extends HTMLElement>(fallback: number) {
  const ref = useRef<E>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    setWidth(element.clientWidth || fallback);
    if (typeof ResizeObserver === 'undefined') return undefined;
    const observer = new ResizeObserver(([entry]) => setWidth(entry?.contentRect.width || fallback));
    observer.observe(element);
    return () => observer.disconnect();
  }, [fallback]);
  return [ref, width] as const;
}

export function DailyChart({ title, days, series }: { title: string; days: string[]; series: Series[] }) {
  const { t, locale } = useI18n();
  const short = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' });
  const label = (day: string) => short.format(new Date(`${day}T12:00:00`));
  const number = new Intl.NumberFormat(locale);
  const [area, width] = useWidth<HTMLDivElement>(640);
  const inner = { width: Math.max(width - MARGIN.left - MARGIN.right, 10), height: HEIGHT - MARGIN.top - MARGIN.bottom };
  const x = scalePoint({ domain: days, range: [0, inner.width] });
  const highest = Math.max(1, ...series.flatMap((s) => s.values));
  const y = scaleLinear({ domain: [0, highest], range: [inner.height, 0], nice: true });
  // Whole numbers only: no tick at 0.5 messages.
  const yTicks = y.ticks(Math.min(5, highest)).filter((v) => Number.isInteger(v));
  const every = Math.max(1, Math.ceil(days.length / Math.max(2, Math.floor(inner.width / TICK_WIDTH))));
  const xTicks = days.filter((_, i) => i % every === 0 || i === days.length - 1);
  const at = (i: number) => x(days[i] ?? '') ?? 0;
  return (
    <figure className="chart">
      <div className="chart-area" ref={area}>
        <svg width={width} height={HEIGHT} role="img" aria-label={title}>
          <Group left={MARGIN.left} top={MARGIN.top}>
            <GridRows scale={y} width={inner.width} tickValues={yTicks} stroke="#c9ced6" />
            {yTicks.map((v) => (
              <text key={v} x={-8} y={y(v)} dy="0.32em" textAnchor="end" {...TICK}>
                {number.format(v)}
              </text>
            ))}
            <line x1={0} x2={inner.width} y1={inner.height} y2={inner.height} stroke="#4a5361" />
            {xTicks.map((day) => (
              <text key={day} x={x(day)} y={inner.height + 18} textAnchor="middle" {...TICK}>
                {label(day)}
              </text>
            ))}
            {series.map((s) => (
              <g key={s.key}>
                <LinePath
                  data={s.values}
                  x={(_, i) => at(i)}
                  y={(v) => y(v)}
                  curve={curveMonotoneX}
                  stroke={s.color}
                  strokeWidth={2.5}
                  strokeDasharray={s.dash}
                />
                {s.values.map((v, i) => (
                  <circle key={days[i] ?? i} cx={at(i)} cy={y(v)} r={3} fill={s.color} />
                ))}
              </g>
            ))}
          </Group>
        </svg>
      </div>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.key}>
            <svg width="28" height="10" aria-hidden="true">
              <line x1="0" y1="5" x2="28" y2="5" stroke={s.color} strokeWidth="2.5" strokeDasharray={s.dash} />
            </svg>
            {s.label}
          </li>
        ))}
      </ul>
      <figcaption>
        <details>
          <summary>{t('dash.showTable')}</summary>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{title}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('dash.day')}</th>
                  {series.map((s) => (
                    <th scope="col" className="num" key={s.key}>
                      {s.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {days.map((day, i) => (
                  <tr key={day}>
                    <th scope="row">{label(day)}</th>
                    {series.map((s) => (
                      <td className="num" key={s.key}>
                        {s.values[i] ?? 0}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </figcaption>
    </figure>
  );
}
