/** Events the consumers gave up on, with a replay button. While the graph has no
 * `deadLetters` field the page says so (and how to reach them meanwhile), never inventing rows. */
import { useState } from 'react';

import { isMissingField } from '@nudges/shared/errors';
import { formatDateTime } from '@nudges/shared/format';
import { gql } from '@nudges/shared/graphql';
import { useI18n } from '@nudges/shared/i18n';
import { Empty, ErrorMessage, Loading, Notice, Pager, useAction, useCursorPages, useQuery } from '@nudges/shared/ui';
import { DEAD_LETTERS, REPLAY_DEAD_LETTER } from '../operations';
import type { Connection, DeadLetter } from '../types';

const PAGE = 20;

export function DeadLetters() {
  const { t, locale } = useI18n();
  const pages = useCursorPages();
  const query = useQuery<{ deadLetters: Connection<DeadLetter> }>(DEAD_LETTERS, { first: PAGE, after: pages.after });
  const replay = useAction();
  const [replayed, setReplayed] = useState<string[]>([]);
  const page = query.data?.deadLetters;
  const missing = isMissingField(query.error, 'deadLetters');
  const replayMissing = isMissingField(replay.error, 'replayDeadLetter');
  return (
    <>
      <h1>{t('nav.deadLetters')}</h1>
      <p className="hint">{t('dlq.intro')}</p>
      {missing ? (
        <Notice tone="warning">
          <p>
            <strong>{t('dlq.unavailable')}</strong>
          </p>
          <p>{t('dlq.unavailableHow')}</p>
          <p>
            <code>nudges dlq list TOPIC</code> · <code>nudges dlq replay TOPIC</code>
          </p>
        </Notice>
      ) : (
        <section className="card">
          <ErrorMessage error={query.error} onRetry={query.reload} />
          {replayMissing ? <Notice tone="warning">{t('dlq.replayUnavailable')}</Notice> : <ErrorMessage error={replay.error} />}
          {query.loading && !page ? <Loading /> : null}
          {page && !page.nodes.length ? <Empty>{t('dlq.empty')}</Empty> : null}
          {page?.nodes.length ? (
            <div className="table-wrap">
              <table className="responsive">
                <thead>
                  <tr>
                    <th scope="col">{t('dlq.failedAt')}</th>
                    <th scope="col">{t('dlq.topic')}</th>
                    <th scope="col">{t('dlq.event')}</th>
                    <th scope="col">{t('dlq.error')}</th>
                    <th scope="col" className="num">
                      {t('dlq.attempts')}
                    </th>
                    <th scope="col">
                      <span className="visually-hidden">{t('plan.actions')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.nodes.map((d) => (
                    <tr key={d.id}>
                      <td data-label={t('dlq.failedAt')}>{formatDateTime(d.failedAt, locale)}</td>
                      <td data-label={t('dlq.topic')}>
                        <code>
                          {d.topic}[{d.partition}]@{d.offset}
                        </code>
                        <div className="hint">{d.consumerGroup}</div>
                      </td>
                      <td data-label={t('dlq.event')}>
                        {d.eventType ?? '—'}
                        {d.eventId ? <div className="mono hint">{d.eventId}</div> : null}
                      </td>
                      <td data-label={t('dlq.error')}>
                        <strong>{d.errorType}</strong>: {d.error}
                      </td>
                      <td data-label={t('dlq.attempts')} className="num">
                        {d.attempts}
                      </td>
                      <td>
                        {replayed.includes(d.id) ? (
                          <span className="badge ok">{t('dlq.replayed')}</span>
                        ) : (
                          <button
                            type="button"
                            disabled={replay.busy}
                            aria-label={t('dlq.replayNamed', { topic: d.topic, offset: d.offset })}
                            onClick={() =>
                              void replay.run(async () => {
                                await gql(REPLAY_DEAD_LETTER, { id: d.id });
                                setReplayed((ids) => [...ids, d.id]);
                              })
                            }
                          >
                            {t('dlq.replay')}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {page ? <Pager pages={pages} pageInfo={page.pageInfo} totalCount={page.totalCount} shown={page.nodes.length} pageSize={PAGE} /> : null}
        </section>
      )}
    </>
  );
}
